package tokenformat_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// hmacLike returns a body shaped like fosite's HMAC token.
func hmacLike(t *testing.T) string {
	t.Helper()
	k, s := make([]byte, 32), make([]byte, 32)
	rand.Read(k)
	rand.Read(s)
	return base64.RawURLEncoding.EncodeToString(k) + "." + base64.RawURLEncoding.EncodeToString(s)
}

func TestSealOpenRoundTrip(t *testing.T) {
	for range 200 { // signatures with '_' and '-' in every position
		body := hmacLike(t)
		tok := tokenformat.Seal(tokenformat.AccessToken, body)
		got, legacy, err := tokenformat.Open(tokenformat.AccessToken, tok)
		if err != nil || legacy || got != body {
			t.Fatalf("Open(Seal(%q)) = %q, %v, %v", body, got, legacy, err)
		}
		// The same body without checksum is a legacy token, never
		// mistaken for a checksummed one.
		got, legacy, err = tokenformat.Open(tokenformat.AccessToken, tokenformat.AccessToken+body)
		if err != nil || !legacy || got != body {
			t.Fatalf("legacy %q: %q, %v, %v", body, got, legacy, err)
		}
	}
}

func TestOpenRefusesJunkOffline(t *testing.T) {
	good := tokenformat.Seal(tokenformat.AccessToken, hmacLike(t))
	flipped := []byte(good)
	i := len(tokenformat.AccessToken) + 5
	// Another base64url character in its place: a typo, still well shaped.
	if flipped[i] == 'A' {
		flipped[i] = 'B'
	} else {
		flipped[i] = 'A'
	}
	cases := []struct {
		name, token string
		want        error
	}{
		{"random after the prefix", "pst_at_" + strings.Repeat("x9", 40), tokenformat.ErrShape},
		{"empty", "", tokenformat.ErrPrefix},
		{"refresh token as access token", tokenformat.Seal(tokenformat.RefreshToken, hmacLike(t)), tokenformat.ErrPrefix},
		{"typo", string(flipped), tokenformat.ErrChecksum},
		{"truncated", good[:len(good)-1], tokenformat.ErrShape},
		{"legacy shape, short signature", "pst_at_abc.sig", tokenformat.ErrShape},
		{"wrong checksum", good[:len(good)-1] + "!", tokenformat.ErrShape},
		{"two dots", "pst_at_a.b.c", tokenformat.ErrShape},
		{"no key", "pst_at_.sig", tokenformat.ErrShape},
		{"space", "pst_at_a .b", tokenformat.ErrShape},
		{"too long", "pst_at_a." + strings.Repeat("b", tokenformat.MaxLen), tokenformat.ErrShape},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := tokenformat.Open(tokenformat.AccessToken, c.token)
			if !errors.Is(err, c.want) {
				t.Fatalf("Open(%q): %v, want %v", c.token, err, c.want)
			}
		})
	}
	// A made-up checksummed-looking token is refused: only 1 in 62^6
	// random suffixes matches.
	forged := good[:len(good)-tokenformat.ChecksumLen] + "000000"
	if _, _, err := tokenformat.Open(tokenformat.AccessToken, forged); !errors.Is(err, tokenformat.ErrChecksum) && forged != good {
		t.Fatalf("forged checksum: %v", err)
	}
}
