package dpop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"

	jose "github.com/go-jose/go-jose/v3"
)

// TestKeyCacheBounded: distinct jwk headers (here the same key under
// different kids) never grow the cache past keyCacheSize, and each still
// parses to the key's thumbprint.
func TestKeyCacheBounded(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c := &keyCache{m: make(map[[32]byte]*proofKey)}
	var jkt string
	for i := range keyCacheSize + 50 {
		raw, _ := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: fmt.Sprint(i)})
		k, err := c.get(raw)
		if err != nil {
			t.Fatal(err)
		}
		if jkt == "" {
			jkt = k.jkt
		}
		if k.jkt != jkt {
			t.Fatalf("thumbprint changed with the kid: %s vs %s", k.jkt, jkt)
		}
	}
	if len(c.m) > keyCacheSize {
		t.Fatalf("cache holds %d keys, bound is %d", len(c.m), keyCacheSize)
	}
}
