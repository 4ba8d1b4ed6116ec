package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResources: the shipped file and the defaults name the development
// API's URL; PETSTORE_RESOURCES replaces the list, each accepting every
// non-admin scope, the first the default; bad identifiers, unknown or
// admin scopes, duplicates and the retired jwt_audience are refused with a
// message naming the setting.
func TestResources(t *testing.T) {
	shipped, err := Load("../../config/petstore-auth.yaml", false, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if rl := shipped.ResourceList(); len(rl) != 1 || rl.Default() != "http://127.0.0.1:8081" || strings.Join(rl[0].Scopes, " ") != "read:pets write:pets" {
		t.Fatalf("shipped resources %+v", rl)
	}
	if rl := (&Config{Resources: Default().Resources}).ResourceList(); rl.Default() != "http://127.0.0.1:8081" {
		t.Fatalf("default resources %+v", rl)
	}

	cfg, err := Load("", true, envMap(map[string]string{"PETSTORE_RESOURCES": "https://api.example, https://photos.example/v1"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dev = true
	rl := cfg.ResourceList()
	if err := cfg.Validate(); err != nil || len(rl) != 2 || rl.Default() != "https://api.example" ||
		strings.Join(rl[1].Scopes, " ") != "read:pets write:pets" {
		t.Fatalf("PETSTORE_RESOURCES: %+v %v", rl, err)
	}

	for name, c := range map[string]struct{ yaml, want string }{
		"relative":      {"resources:\n  - identifier: /api\n", "resources[0].identifier"},
		"fragment":      {"resources:\n  - identifier: https://api.example/#x\n", "fragment"},
		"unknown scope": {"resources:\n  - identifier: https://api.example\n    scopes: [read:cats]\n", "resources[0].scopes"},
		"admin scope":   {"resources:\n  - identifier: https://api.example\n    scopes: [admin]\n", "admin"},
		"twice":         {"resources:\n  - identifier: https://api.example\n  - identifier: https://api.example\n", "listed twice"},
		"none":          {"resources: []\n", "at least one resource"},
		"jwt_audience":  {"tokens:\n  jwt_audience: petstore-api\n", "replaced by resources"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.yaml")
			if err := os.WriteFile(path, []byte("dev: true\n"+c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path, false, envMap(nil))
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate: %v, want a message with %q", err, c.want)
			}
		})
	}
}
