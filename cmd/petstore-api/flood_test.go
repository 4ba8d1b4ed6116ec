package main

// This test runs the API as built by build() against the real
// authorization server (pkg/server, test-only import: the binary itself
// imports nothing of the authorization server).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	petstoreauth "github.com/petstore-auth/petstore-auth"
	authconfig "github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/server"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// realStack is petstore-auth (with its per-address limit lowered to 20 a
// minute, the setting under which about 20 junk tokens used to take the
// API down) and the API introspecting against it.
type realStack struct {
	api            http.Handler
	asURL          string
	svcID, svcSec  string
	introspections atomic.Int64 // calls the API made to the authorization server
	as429          atomic.Int64 // 429s the authorization server gave the API
}

func newRealStack(t *testing.T, dbURL string) *realStack {
	t.Helper()
	st := &realStack{}
	var h atomic.Value // the server's handler, once it is open
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusRecorder{ResponseWriter: w}
		h.Load().(http.Handler).ServeHTTP(sw, r)
		if r.URL.Path == "/oauth2/introspect" {
			st.introspections.Add(1)
			if sw.status == http.StatusTooManyRequests {
				st.as429.Add(1)
			}
		}
	}))
	t.Cleanup(ts.Close)
	cfg := authconfig.Default()
	cfg.Dev, cfg.Issuer, cfg.DatabaseURL, cfg.DataDir = true, ts.URL, dbURL, t.TempDir()
	cfg.Secret = strings.Repeat("f", 32)
	cfg.RateLimits.PerIP = 20 // PETSTORE_RATE_LIMIT_PER_IP=20
	s, err := server.Open(context.Background(), cfg, server.Options{Logger: slog.New(slog.DiscardHandler), Web: petstoreauth.Web})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h.Store(s.Handler)
	st.asURL = ts.URL
	mk := func(c *identity.Client) (string, string) {
		c.ID = identity.NewClientID(c.Name)
		var secret string
		secret, c.SecretHash = identity.NewClientSecret()
		c.TokenFormat = identity.TokenFormatOpaque
		if err := s.Store.CreateClient(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		return c.ID, secret
	}
	rsID, rsSecret := mk(&identity.Client{Name: "api", GrantTypes: []string{identity.GrantClientCredentials}, CanIntrospect: true})
	st.svcID, st.svcSec = mk(&identity.Client{Name: "svc", GrantTypes: []string{identity.GrantClientCredentials}, Scopes: []string{identity.ScopeReadPets}})

	acfg := defaults() // the API's default limits
	acfg.Dev = true
	acfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "api.db")
	acfg.Issuer, acfg.ClientID, acfg.ClientSecret = ts.URL, rsID, rsSecret
	if err := acfg.validate(); err != nil {
		t.Fatal(err)
	}
	a, err := build(context.Background(), acfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.cleanup)
	st.api = a.handler
	return st
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// token mints a fresh (so uncached) access token with read:pets.
func (st *realStack) token(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.asURL+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"read:pets"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(st.svcID), url.QueryEscape(st.svcSec))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode != 200 || m.AccessToken == "" {
		t.Fatalf("token: %d", res.StatusCode)
	}
	return m.AccessToken
}

// get calls GET /v1/pets on the API as if from addr.
func (st *realStack) get(addr, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/v1/pets", nil)
	req.RemoteAddr = addr + ":50000"
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	st.api.ServeHTTP(w, req)
	return w
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestJunkTokenFloodDoesNotTakeTheAPIDown: one address sends junk bearer
// tokens, new on every request. Random pst_at_ tokens are refused offline
// (checksum); well-formed made-up ones cost at most
// failed_credentials_per_ip_per_minute (100) introspections, then 429. The
// authorization server never throttles the API, and every valid uncached
// credential presented during the flood from other addresses gets 200.
func TestJunkTokenFloodDoesNotTakeTheAPIDown(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dbURL := "sqlite://" + filepath.Join(t.TempDir(), "auth.db")
			if db == "postgres" {
				if os.Getenv(storetest.PostgresEnv) == "" {
					t.Skip(storetest.PostgresEnv + " not set")
				}
				dbURL = storetest.PostgresURL(t)
			}
			st := newRealStack(t, dbURL)
			const attacker = "203.0.113.66"
			var valid, validOK int
			var mu sync.Mutex
			check := func(i int) {
				if i%10 != 0 {
					return
				}
				tok := st.token(t)
				w := st.get(fmt.Sprintf("198.51.100.%d", i/10%250+1), tok)
				mu.Lock()
				valid++
				if w.Code == http.StatusOK {
					validOK++
				} else {
					t.Errorf("valid uncached token during the flood: %d %s", w.Code, w.Body)
				}
				mu.Unlock()
			}
			// 1. Random pst_at_<hex>: refused from the checksum, no
			// network; they count as failures, so after 100 the address
			// gets 429.
			var junk429 int
			for i := range 200 {
				switch w := st.get(attacker, "pst_at_"+randomHex(32)); w.Code {
				case http.StatusUnauthorized:
				case http.StatusTooManyRequests:
					junk429++
				default:
					t.Fatalf("junk token %d: %d", i, w.Code)
				}
				check(i)
			}
			if n := st.introspections.Load(); n != int64(valid) || junk429 != 100 {
				t.Fatalf("random junk: %d introspections for %d valid tokens, %d of 200 refused with 429 (want 100)", n, valid, junk429)
			}
			// 2. From a second address, well-formed made-up tokens (a
			// valid checksum is public knowledge): at most 100
			// introspected, then the address is refused.
			const forger = "203.0.113.67"
			base := st.introspections.Load() - int64(valid)
			var refused int
			for i := range 200 {
				forged := tokenformat.Seal(tokenformat.AccessToken, randomHex(21)+"."+randomHex(21)+"A")
				switch w := st.get(forger, forged); w.Code {
				case http.StatusUnauthorized:
				case http.StatusTooManyRequests:
					refused++
					if w.Header().Get("Retry-After") == "" {
						t.Fatal("429 without Retry-After")
					}
				default:
					t.Fatalf("forged token %d: %d %s", i, w.Code, w.Body)
				}
				check(200 + i)
			}
			forgedCalls := st.introspections.Load() - base - int64(valid)
			if refused != 100 || forgedCalls != 100 {
				t.Fatalf("200 forged tokens: %d refused with 429, %d introspections (limit 100)", refused, forgedCalls)
			}
			if n := st.as429.Load(); n != 0 {
				t.Fatalf("the authorization server throttled the API %d times", n)
			}
			if validOK != valid {
				t.Fatalf("valid credentials during the flood: %d of %d succeeded", validOK, valid)
			}
			// On the flooding address itself, a credential already known
			// (cached) still works; an unknown one waits for Retry-After.
			known := st.token(t)
			if w := st.get("198.51.100.250", known); w.Code != http.StatusOK {
				t.Fatalf("caching a valid token: %d", w.Code)
			}
			if w := st.get(attacker, known); w.Code != http.StatusOK {
				t.Fatalf("a known token from the flooding address: %d", w.Code)
			}
			t.Logf("flood: 200 random junk tokens: 0 introspections, %d refused with 429; 200 forged well-formed tokens: %d introspections, %d refused with 429; valid uncached credentials: %d/%d OK",
				junk429, forgedCalls, refused, validOK, valid)
		})
	}
}
