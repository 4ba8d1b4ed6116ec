package provider

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// legacyForm returns the token as it was issued before checksums: the same
// HMAC token without the "_" + checksum suffix.
func legacyForm(t *testing.T, prefix, tok string) string {
	t.Helper()
	body, legacy, err := tokenformat.Open(prefix, tok)
	if err != nil || legacy {
		t.Fatalf("issued token %q is not checksummed: legacy=%v %v", tok, legacy, err)
	}
	return prefix + body
}

// TestChecksummedTokensAndLegacyTokens: new opaque tokens carry a checksum;
// tokens issued before the upgrade (no checksum) keep working for their
// lifetime; a token with a wrong checksum or a made-up one is inactive and
// refused by Authenticate without a lookup.
func TestChecksummedTokensAndLegacyTokens(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		v := oauth2.GenerateVerifier()
		st, m := f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
		if st != 200 {
			t.Fatalf("exchange: %d %v", st, m)
		}
		at, rt := str(m, "access_token"), str(m, "refresh_token")
		if !strings.HasPrefix(at, PrefixAccessToken) || !strings.HasPrefix(rt, PrefixRefreshToken) {
			t.Fatalf("prefixes: %q %q", at, rt)
		}
		oldAT := legacyForm(t, PrefixAccessToken, at)
		oldRT := legacyForm(t, PrefixRefreshToken, rt)
		typo := []byte(at)
		typo[len(PrefixAccessToken)+3] ^= 1
		for tok, want := range map[string]bool{
			at: true, oldAT: true, // a pre-upgrade access token still introspects as active
			string(typo):                                 false,
			"pst_at_" + strings.Repeat("Zz", 30):         false,
			at[:len(at)-1] + "0":                         at[len(at)-1] == '0',
			strings.Replace(at, "pst_at_", "pst_rt_", 1): false,
		} {
			if got := f.active(tok); got != want {
				t.Errorf("introspect %q: active=%v, want %v", tok, got, want)
			}
			_, err := f.p.Authenticate(context.Background(), tok)
			if (err == nil) != want {
				t.Errorf("Authenticate %q: %v, want ok=%v", tok, err, want)
			}
		}
		// A pre-upgrade refresh token still refreshes, and what it gets is
		// checksummed.
		st, m = f.refresh(oldRT)
		if st != 200 {
			t.Fatalf("legacy refresh token: %d %v", st, m)
		}
		if _, legacy, err := tokenformat.Open(PrefixRefreshToken, str(m, "refresh_token")); err != nil || legacy {
			t.Fatalf("successor of a legacy refresh token: legacy=%v %v", legacy, err)
		}
		if st, _ := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"pst_rt_" + strings.Repeat("a", 40)}}); st != 400 {
			t.Fatalf("made-up refresh token: %d", st)
		}
	})
}
