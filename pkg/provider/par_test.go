package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
)

// TestPARStoresNoSecrets: the pushed request is stored under the SHA-256
// of its request_uri, without the client secret sent with it
// (client_secret_post).
func TestPARStoresNoSecrets(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, "opaque")
		form := url.Values{"client_id": {"web"}, "client_secret": {f.secret}, "response_type": {"code"}, "redirect_uri": {redirectURI},
			"scope": {"read:pets"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/oauth2/par", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("push with client_secret_post: %d", res.StatusCode)
		}
		var rows []string
		db := f.st.DB()
		r, err := db.Query("SELECT request_uri_hash || ' ' || form FROM par_requests")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
			var s string
			_ = r.Scan(&s)
			rows = append(rows, s)
		}
		if len(rows) != 1 || strings.Contains(rows[0], f.secret) || strings.Contains(rows[0], "urn:ietf") || !strings.Contains(rows[0], "code_challenge") {
			t.Fatalf("stored pushed requests: %q", rows)
		}
	})
}

type failingReplay struct{}

func (failingReplay) Use(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("replay cache down")
}

// TestDPoPReplayCacheDownRefuses: a proof that cannot be recorded is not
// accepted: 503 temporarily_unavailable, no token.
func TestDPoPReplayCacheDownRefuses(t *testing.T) {
	f := newFixtureWith(t, "sqlite://"+t.TempDir()+"/p.db", "opaque", func(_ *Config, o *Options) { o.DPoPReplay = failingReplay{} })
	st, m, _ := f.dpopToken(f.rsID, f.rsSecret, ccForm(), dpoptest.NewKey().Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()}))
	if st != http.StatusServiceUnavailable || m["access_token"] != nil {
		t.Fatalf("replay cache down: %d %v", st, m)
	}
}
