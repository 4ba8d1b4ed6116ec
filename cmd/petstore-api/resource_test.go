package main

import (
	"slices"
	"testing"
)

// TestResourceSettings: the API's identifier is public_url, else its listen
// URL (https with TLS); the legacy audience petstore-api is accepted by
// default, PETSTORE_API_ACCEPT_AUDIENCES replaces the list and set but empty
// clears it; the old audience key still loads as an accepted audience.
func TestResourceSettings(t *testing.T) {
	base := map[string]string{"PETSTORE_API_CLIENT_ID": "a", "PETSTORE_API_CLIENT_SECRET": "b", "PETSTORE_API_DEV": "true"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err := loadConfig("", false, env(base))
	if err != nil || c.resource() != "http://127.0.0.1:8081" || !slices.Equal(c.acceptAudiences(), []string{"petstore-api"}) {
		t.Fatalf("defaults: %q %v %v", c.resource(), c.acceptAudiences(), err)
	}
	c, err = loadConfig("", false, env(with("PETSTORE_API_PUBLIC_URL", "https://api.example/", "PETSTORE_API_ACCEPT_AUDIENCES", "")))
	if err != nil || c.resource() != "https://api.example" || len(c.acceptAudiences()) != 0 {
		t.Fatalf("public URL, no legacy: %q %v %v", c.resource(), c.acceptAudiences(), err)
	}
	c, err = loadConfig(writeFile(t, "audience: old-api\naccept_audiences: []\n"), true, env(base))
	if err != nil || !slices.Equal(c.acceptAudiences(), []string{"old-api"}) {
		t.Fatalf("old audience key: %v %v", c.acceptAudiences(), err)
	}
	if _, err := loadConfig("", false, env(with("PETSTORE_API_PUBLIC_URL", "api.example"))); err == nil {
		t.Fatal("a public URL without scheme was accepted")
	}
}
