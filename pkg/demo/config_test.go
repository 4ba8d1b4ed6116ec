package demo

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr []string // every one must be in the error
	}{
		{
			name: "defaults with the secret from the environment",
			env:  map[string]string{"PETSTORE_DEMO_CLIENT_SECRET": "x"},
			check: func(t *testing.T, c Config) {
				if c.Listen != "127.0.0.1:8082" || c.ClientID != "myapp" || c.RedirectURL() != "http://127.0.0.1:8082/callback" ||
					!slices.Equal(c.Scopes, []string{"openid", "profile", "email", "read:pets", "write:pets", "offline_access"}) || c.SecureCookies() ||
					c.PostLogoutRedirectURL() != "http://127.0.0.1:8082/signed-out" {
					t.Errorf("unexpected defaults %+v", c)
				}
			},
		},
		{
			name: "file then environment",
			yaml: "issuer: https://auth.example/\nscopes: read:pets offline_access\nclient_secret: fromfile\n",
			env: map[string]string{"PETSTORE_DEMO_PUBLIC_URL": "https://myapp.example", "PETSTORE_DEMO_API_URL": "https://api.example",
				"PETSTORE_DEMO_CLIENT_ID": "other", "PETSTORE_DEMO_LISTEN": ":9000"},
			check: func(t *testing.T, c Config) {
				if c.Issuer != "https://auth.example" || c.ClientSecret != "fromfile" || c.ClientID != "other" ||
					c.Listen != ":9000" || c.RedirectURL() != "https://myapp.example/callback" || !c.SecureCookies() ||
					!slices.Equal(c.Scopes, []string{"read:pets", "offline_access"}) {
					t.Errorf("unexpected config %+v", c)
				}
			},
		},
		{
			name: "every problem at once",
			yaml: "listen: nope\npublic_url: http://myapp.example\nissuer: ftp://x\napi_url: http://127.0.0.1:8081/?a=b\nclient_id: \"\"\nscopes: []\n",
			wantErr: []string{"listen:", "public_url: \"http://myapp.example\": plain http", "issuer:", "api_url:",
				"client_id: required", "client_secret: required", "scopes: at least one"},
		},
		{name: "unknown key", yaml: "isuer: https://typo.example\n", wantErr: []string{"isuer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.yaml != "" {
				path = filepath.Join(t.TempDir(), "demo.yaml")
				if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(path, func(k string) string { return tc.env[k] })
			if len(tc.wantErr) > 0 {
				for _, w := range tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("error %v lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

// The shipped config file must load (with the secret from the environment).
func TestShippedConfig(t *testing.T) {
	c, err := Load("../../config/petstore-demo.yaml", func(k string) string {
		if k == "PETSTORE_DEMO_CLIENT_SECRET" {
			return "x"
		}
		return ""
	})
	if err != nil || c.ClientID != "myapp" {
		t.Fatalf("%v %+v", err, c)
	}
}

func TestConfigLogValueHidesSecret(t *testing.T) {
	c := Default()
	c.ClientSecret = "very-secret-value"
	if strings.Contains(c.LogValue().String(), "very-secret-value") {
		t.Error("the client secret is in the log value")
	}
}
