package identity

import (
	"strings"
	"testing"
)

// RD-04: redirect URIs refused at registration.
func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/cb", true},
		{"https://app.example/cb?tenant=1", true},
		{"http://127.0.0.1:8082/callback", true},
		{"http://[::1]/cb", true},
		{"http://localhost:3000/cb", true},
		{"http://app.example/cb", false},
		{"https://app.example/cb#frag", false},
		{"https://app.example/cb#", false},
		{"javascript://x/%0aalert(1)", false},
		{"data:text/html,hi", false},
		{"vbscript:msgbox", false},
		{"file:///etc/passwd", false},
		{"https://*.example/cb", false},
		{"https://user@app.example/cb", false},
		{"/relative/cb", false},
		{"https://app.example/cb?code=x", false},
		{"https://app.example/cb?state=x", false},
		{"https://app.example/cb?iss=x", false},
		{"https://app.example/cb?error=x", false},
		{" https://app.example/cb", false},
		{"https://app.example/c\nb", false},
		{"https://evil.com\\@app.example/cb", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			err := ValidateRedirectURI(tt.uri)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateRedirectURI(%q) = %v, want ok=%v", tt.uri, err, tt.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("code %q, want invalid", ErrorCode(err))
			}
		})
	}
}

func TestClientValidateReportsAllProblems(t *testing.T) {
	c := &Client{ID: "Bad ID!", GrantTypes: []string{"password", GrantClientCredentials}, Public: true,
		RedirectURIs: []string{"javascript:alert(1)"}, Scopes: []string{"pets:*"}, TokenFormat: "xml"}
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid client accepted")
	}
	for _, want := range []string{"client id", "name", "password", "public client", "redirect URI", "pets:*", "token format"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

func TestClientSecretsAreUniqueAndHashed(t *testing.T) {
	s1, h1 := NewClientSecret()
	s2, h2 := NewClientSecret()
	if s1 == s2 || string(h1) == string(h2) {
		t.Fatal("two secrets are equal")
	}
	if !strings.HasPrefix(s1, PrefixClientSecret) || len(s1) < len(PrefixClientSecret)+43 {
		t.Fatalf("secret %q lacks prefix or 256 bits", s1)
	}
	if len(h1) != 32 {
		t.Fatalf("hash length %d", len(h1))
	}
}

func TestParseScopes(t *testing.T) {
	if s, err := ParseScopes("read:pets  write:pets"); err != nil || len(s) != 2 {
		t.Fatalf("got %v %v", s, err)
	}
	for _, bad := range []string{"read:pets read:pets", "read:*", "READ:PETS", strings.Repeat("a", 2000)} {
		if _, err := ParseScopes(bad); err == nil {
			t.Errorf("ParseScopes(%.20q) accepted", bad)
		}
	}
}
