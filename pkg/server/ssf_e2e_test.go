package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// receiver is an API replica: a Verifier receiving security events, with
// the jti of every event it processed on events.
type receiver struct {
	v      *bearer.Verifier
	events chan string
}

// clock is a settable clock for the fallback test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newVerifier is petstore-api's verifier for the server, as rs.
func newVerifier(s *servertest.Server, rs servertest.Client) *bearer.Verifier {
	return &bearer.Verifier{Issuer: s.URL, ClientID: rs.ID, ClientSecret: rs.Secret, Audience: s.Config.Resources[0].Identifier,
		Mode: identity.EnvTest, Logger: slog.New(slog.DiscardHandler)}
}

// startReceiver starts a replica's event receiver and waits until its
// stream exists (streams is the number of streams expected then).
func startReceiver(t *testing.T, s *servertest.Server, rs servertest.Client, streams int) *receiver {
	t.Helper()
	r := &receiver{v: newVerifier(s, rs), events: make(chan string, 100)}
	r.v.OnEvent = func(jti string, err error) {
		if err != nil {
			t.Errorf("event %s refused: %v", jti, err)
		}
		r.events <- jti
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.v.ReceiveEvents(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitForRows(t, s, "SELECT COUNT(*) FROM ssf_streams", streams)
	return r
}

// waitForRows waits until query counts want rows: a state, not a time.
func waitForRows(t *testing.T, s *servertest.Server, query string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := s.Store.DB().QueryRow(query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d, want %d", query, n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// next waits for the replica to have processed one event.
func (r *receiver) next(t *testing.T) string {
	t.Helper()
	select {
	case jti := <-r.events:
		return jti
	case <-time.After(30 * time.Second):
		t.Fatal("no security event arrived")
		return ""
	}
}

func wantAccepted(t *testing.T, v *bearer.Verifier, token string) {
	t.Helper()
	if _, err := v.Verify(context.Background(), "Bearer "+token); err != nil {
		t.Fatalf("fresh credential refused: %v", err)
	}
}

func wantRefused(t *testing.T, v *bearer.Verifier, token string) {
	t.Helper()
	if _, err := v.Verify(context.Background(), "Bearer "+token); !errors.Is(err, bearer.ErrInvalid) {
		t.Fatalf("revoked credential: err = %v, want invalid", err)
	}
}

// ccToken gets a client_credentials access token for c.
func ccToken(t *testing.T, s *servertest.Server, c servertest.Client) string {
	t.Helper()
	res := servertest.PostForm(t, nil, s.URL+"/oauth2/token", c, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:pets"}})
	if res.Status != http.StatusOK || res.Str("access_token") == "" {
		t.Fatalf("token: %d %s", res.Status, res.Body)
	}
	return res.Str("access_token")
}

// grantToken runs the authorization-code flow in process (as pkg/web does
// after sign-in and consent) and returns the access token and the grant.
func grantToken(t *testing.T, s *servertest.Server, userID string) (string, *identity.Grant) {
	t.Helper()
	ctx := context.Background()
	const redirect = "http://127.0.0.1:9/callback"
	web := s.MustClient(t, identity.Client{Name: "Web", RedirectURIs: []string{redirect},
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"read:pets"}})
	g, err := s.Store.UpsertGrant(ctx, userID, web.ID, []string{"read:pets"}, true)
	if err != nil {
		t.Fatal(err)
	}
	verifier := oauth2.GenerateVerifier()
	q := url.Values{"response_type": {"code"}, "client_id": {web.ID}, "redirect_uri": {redirect}, "scope": {"read:pets"},
		"state": {"state-12345678"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	req := httptest.NewRequest(http.MethodGet, "/oauth2/auth?"+q.Encode(), nil)
	ar, err := s.Provider.OAuth2.NewAuthorizeRequest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	ar.GrantScope("read:pets")
	resp, err := s.Provider.OAuth2.NewAuthorizeResponse(ctx, ar, provider.NewSession(userID, g.ID))
	if err != nil {
		t.Fatal(err)
	}
	res := servertest.PostForm(t, nil, s.URL+"/oauth2/token", web, url.Values{"grant_type": {"authorization_code"},
		"code": {resp.GetParameters().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
	if res.Status != http.StatusOK {
		t.Fatalf("code exchange: %d %s", res.Status, res.Body)
	}
	return res.Str("access_token"), g
}

// TestRevocationEventsReachEveryReplica: each kind of revocation becomes a
// security event that both API replicas receive; each refuses the
// credential as soon as it has processed the event (long before its cache
// or revocation poll would), and acknowledges it so the stream empties.
func TestRevocationEventsReachEveryReplica(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL})
		rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
		opaque := s.MustClient(t, identity.Client{Name: "Opaque", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read:pets"}})
		jwtClient := s.MustClient(t, identity.Client{Name: "JWT", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read:pets"},
			TokenFormat: identity.TokenFormatJWT})
		user := s.MustUser(t, "alice@example.com", "correct horse battery staple")
		a := startReceiver(t, s, rs, 1)
		b := startReceiver(t, s, rs, 2)
		replicas := []*receiver{a, b}

		revokeToken := func(c servertest.Client, token string) func() {
			return func() {
				res := servertest.PostForm(t, nil, s.URL+"/oauth2/revoke", c, url.Values{"token": {token}})
				if res.Status != http.StatusOK {
					t.Fatalf("revoke: %d %s", res.Status, res.Body)
				}
			}
		}
		opaqueTok := ccToken(t, s, opaque)
		jwtTok := ccToken(t, s, jwtClient)
		key, k := s.MustAPIKey(t, user.ID, identity.EnvTest, "ci", "read:pets")
		grantTok, g := grantToken(t, s, user.ID)
		for _, tc := range []struct {
			name, credential string
			revoke           func()
		}{
			{"opaque token, RFC 7009", opaqueTok, revokeToken(opaque, opaqueTok)},
			{"JWT, RFC 7009", jwtTok, revokeToken(jwtClient, jwtTok)},
			{"API key", key, func() {
				if err := s.Store.RevokeAPIKey(context.Background(), k.ID); err != nil {
					t.Fatal(err)
				}
			}},
			{"grant", grantTok, func() {
				if err := s.Store.RevokeGrant(context.Background(), g.ID); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, r := range replicas {
					wantAccepted(t, r.v, tc.credential) // cached now
				}
				tc.revoke()
				jtis := map[string]bool{}
				for _, r := range replicas {
					jtis[r.next(t)] = true
					wantRefused(t, r.v, tc.credential)
				}
				if len(jtis) != 1 {
					t.Errorf("the replicas got different events %v", jtis)
				}
			})
		}
		// Every event was acknowledged (the ack rides on the next poll).
		waitForRows(t, s, "SELECT COUNT(*) FROM ssf_events", 0)
	})
}

// TestRevocationFallbackWithoutEvents: with no event channel, a cached
// opaque token is refused once its cache entry (CacheTTL) is over, as
// before push delivery.
func TestRevocationFallbackWithoutEvents(t *testing.T) {
	s := servertest.MustOpen(t, servertest.Options{})
	rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
	opaque := s.MustClient(t, identity.Client{Name: "Opaque", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read:pets"}})
	c := &clock{t: time.Now()}
	v := newVerifier(s, rs)
	v.Now = c.Now
	tok := ccToken(t, s, opaque)
	wantAccepted(t, v, tok)
	if res := servertest.PostForm(t, nil, s.URL+"/oauth2/revoke", opaque, url.Values{"token": {tok}}); res.Status != http.StatusOK {
		t.Fatalf("revoke: %d", res.Status)
	}
	wantAccepted(t, v, tok) // the cache answers: no event arrives
	c.Advance(bearer.DefaultCacheTTL)
	wantRefused(t, v, tok)
}

// pollJSON posts body to the poll or stream endpoint as c.
func pollJSON(t *testing.T, method, u string, c servertest.Client, body string) servertest.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.ID != "" {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	return servertest.Do(t, nil, req)
}

// TestSSFPollProtocol: RFC 8936 poll delivery at the wire: a SET is
// ES256-signed with the server's key, typed secevent+jwt, addressed to the
// stream's client; it is delivered again until acknowledged; the
// endpoints refuse strangers and bad bodies without a 5xx.
func TestSSFPollProtocol(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL})
		rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
		other := s.MustClient(t, identity.Client{Name: "Other API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
		app := s.MustClient(t, identity.Client{Name: "App", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read:pets"}})

		meta := servertest.Do(t, nil, mustRequest(t, http.MethodGet, s.URL+"/.well-known/ssf-configuration"))
		if meta.Status != http.StatusOK || meta.Str("configuration_endpoint") != s.URL+"/ssf/streams" {
			t.Fatalf("ssf-configuration: %d %s", meta.Status, meta.Body)
		}
		created := pollJSON(t, http.MethodPost, s.URL+"/ssf/streams", rs, `{"delivery":{"method":"urn:ietf:rfc:8936"}}`)
		if created.Status != http.StatusCreated {
			t.Fatalf("create stream: %d %s", created.Status, created.Body)
		}
		var cfg struct {
			StreamID string `json:"stream_id"`
			Delivery struct {
				EndpointURL string `json:"endpoint_url"`
			} `json:"delivery"`
		}
		_ = json.Unmarshal(created.Body, &cfg)
		poll := cfg.Delivery.EndpointURL
		// SSF 1.0 §8.1.1: events_delivered is what was asked for among
		// what is supported.
		asked := pollJSON(t, http.MethodPost, s.URL+"/ssf/streams", rs,
			`{"events_requested":["https://example.com/other","`+identity.EventCredentialChange+`"]}`)
		if got := fmt.Sprint(asked.JSON["events_delivered"]); asked.Status != http.StatusCreated || got != "["+identity.EventCredentialChange+"]" {
			t.Fatalf("events_delivered: %d %s", asked.Status, asked.Body)
		}

		tok := ccToken(t, s, app)
		if res := servertest.PostForm(t, nil, s.URL+"/oauth2/revoke", app, url.Values{"token": {tok}}); res.Status != http.StatusOK {
			t.Fatalf("revoke: %d", res.Status)
		}
		first := pollSets(t, poll, rs, `{"returnImmediately":true}`)
		if len(first) != 1 {
			t.Fatalf("%d SETs, want 1", len(first))
		}
		var jti, set string
		for jti, set = range first {
		}
		checkSET(t, s, set, rs.ID, jti)
		if again := pollSets(t, poll, rs, `{"returnImmediately":true}`); again[jti] == "" {
			t.Fatalf("an unacknowledged SET was not delivered again: %v", again)
		}
		if left := pollSets(t, poll, rs, `{"returnImmediately":true,"ack":["`+jti+`"]}`); len(left) != 0 {
			t.Fatalf("acknowledged SET delivered again: %v", left)
		}

		for _, tc := range []struct {
			name   string
			method string
			url    string
			client servertest.Client
			body   string
			status int
		}{
			{"poll without credentials", http.MethodPost, poll, servertest.Client{}, `{}`, http.StatusUnauthorized},
			{"poll with a wrong secret", http.MethodPost, poll, servertest.Client{ID: rs.ID, Secret: "wrong"}, `{}`, http.StatusUnauthorized},
			{"poll as a client that may not introspect", http.MethodPost, poll, app, `{}`, http.StatusForbidden},
			{"poll another client's stream", http.MethodPost, poll, other, `{"returnImmediately":true}`, http.StatusNotFound},
			{"poll an unknown stream", http.MethodPost, s.URL + "/ssf/poll/nope", rs, `{"returnImmediately":true}`, http.StatusNotFound},
			{"poll with a body that is not JSON", http.MethodPost, poll, rs, `maxEvents=1`, http.StatusBadRequest},
			{"poll with a negative maxEvents", http.MethodPost, poll, rs, `{"maxEvents":-1}`, http.StatusBadRequest},
			{"poll with a huge maxEvents", http.MethodPost, poll, rs, `{"maxEvents":100000}`, http.StatusBadRequest},
			{"poll with a wrongly typed ack", http.MethodPost, poll, rs, `{"ack":"x"}`, http.StatusBadRequest},
			{"create a push stream", http.MethodPost, s.URL + "/ssf/streams", rs, `{"delivery":{"method":"urn:ietf:rfc:8935"}}`, http.StatusBadRequest},
			{"create without credentials", http.MethodPost, s.URL + "/ssf/streams", servertest.Client{}, `{}`, http.StatusUnauthorized},
			{"create for events not supported", http.MethodPost, s.URL + "/ssf/streams", rs, `{"events_requested":["https://example.com/other"]}`, http.StatusBadRequest},
			{"delete without stream_id", http.MethodDelete, s.URL + "/ssf/streams", rs, ``, http.StatusBadRequest},
			{"delete another client's stream", http.MethodDelete, s.URL + "/ssf/streams?stream_id=" + cfg.StreamID, other, ``, http.StatusNotFound},
			{"delete the stream", http.MethodDelete, s.URL + "/ssf/streams?stream_id=" + cfg.StreamID, rs, ``, http.StatusNoContent},
			{"poll a deleted stream", http.MethodPost, poll, rs, `{"returnImmediately":true}`, http.StatusNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if res := pollJSON(t, tc.method, tc.url, tc.client, tc.body); res.Status != tc.status {
					t.Fatalf("%d %s, want %d", res.Status, res.Body, tc.status)
				}
			})
		}
	})
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// pollSets polls and returns the SETs by jti.
func pollSets(t *testing.T, poll string, c servertest.Client, body string) map[string]string {
	t.Helper()
	res := pollJSON(t, http.MethodPost, poll, c, body)
	var out struct {
		Sets map[string]string `json:"sets"`
	}
	if res.Status != http.StatusOK || json.Unmarshal(res.Body, &out) != nil {
		t.Fatalf("poll: %d %s", res.Status, res.Body)
	}
	return out.Sets
}

// checkSET verifies a SET with the server's JWKS and checks its header
// and claims.
func checkSET(t *testing.T, s *servertest.Server, set, aud, jti string) {
	t.Helper()
	jws, err := jose.ParseSigned(set)
	if err != nil || len(jws.Signatures) != 1 {
		t.Fatalf("SET %q: %v", set, err)
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != string(jose.ES256) || h.ExtraHeaders[jose.HeaderType] != "secevent+jwt" {
		t.Fatalf("SET header %+v", h)
	}
	res := servertest.Do(t, nil, mustRequest(t, http.MethodGet, s.URL+"/.well-known/jwks.json"))
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(res.Body, &keys); err != nil {
		t.Fatal(err)
	}
	ks := keys.Key(h.KeyID)
	if len(ks) != 1 {
		t.Fatalf("SET kid %q not in the JWKS", h.KeyID)
	}
	payload, err := jws.Verify(ks[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Iss    string                    `json:"iss"`
		Aud    string                    `json:"aud"`
		JTI    string                    `json:"jti"`
		IAT    int64                     `json:"iat"`
		SubID  map[string]string         `json:"sub_id"`
		Events map[string]map[string]any `json:"events"`
	}
	if err := json.NewDecoder(io.NopCloser(bytes.NewReader(payload))).Decode(&c); err != nil {
		t.Fatal(err)
	}
	ev := c.Events[identity.EventCredentialChange]
	if c.Iss != s.URL || c.Aud != aud || c.JTI != jti || c.IAT == 0 || c.SubID["format"] != identity.SubjectOpaque || c.SubID["id"] == "" ||
		ev["change_type"] != "revoke" || ev["credential_type"] != identity.CredentialAccessToken {
		t.Fatalf("SET claims %s", payload)
	}
}

// TestIdleStreamsExpire: events are queued only on streams that exist;
// housekeeping deletes a stream nobody polled for the idle limit, with its
// events; a client's streams are bounded.
func TestIdleStreamsExpire(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL})
		ctx := context.Background()
		rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
		user := s.MustUser(t, "alice@example.com", "correct horse battery staple")
		_, before := s.MustAPIKey(t, user.ID, identity.EnvTest, "before", "read:pets")
		if err := s.Store.RevokeAPIKey(ctx, before.ID); err != nil {
			t.Fatal(err)
		}
		id, err := s.Store.CreateStream(ctx, rs.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		_, after := s.MustAPIKey(t, user.ID, identity.EnvTest, "after", "read:pets")
		if err := s.Store.RevokeAPIKey(ctx, after.ID); err != nil {
			t.Fatal(err)
		}
		events, more, err := s.Store.StreamEvents(ctx, id, 10)
		if err != nil || len(events) != 1 || more || !strings.Contains(string(events[0].Event), after.ID) {
			t.Fatalf("StreamEvents = %d events (more %v, %v); want the one revoked after the stream was made", len(events), more, err)
		}
		if _, err := s.Store.CreateStream(ctx, rs.ID, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Store.CreateStream(ctx, rs.ID, 2); identity.ErrorCode(err) != identity.EINVALID {
			t.Fatalf("third stream of a client limited to 2: %v", err)
		}
		if _, err := s.Store.DeleteExpired(ctx, time.Now().Add(time.Minute), 0); err != nil {
			t.Fatal(err)
		}
		waitForRows(t, s, "SELECT COUNT(*) FROM ssf_events", 1) // not idle yet
		if _, err := s.Store.DeleteExpired(ctx, time.Now().Add(store.StreamIdleLimit+time.Minute), 0); err != nil {
			t.Fatal(err)
		}
		waitForRows(t, s, "SELECT COUNT(*) FROM ssf_streams", 0)
		waitForRows(t, s, "SELECT COUNT(*) FROM ssf_events", 0)
	})
}

// TestShutdownReleasesHeldPolls: a graceful stop answers held long polls
// at once (empty) instead of waiting them out, and later polls are not
// held. (The hold is 9 s here, the request deadline less a second; an
// answer within half of it can only come from the release.)
func TestShutdownReleasesHeldPolls(t *testing.T) {
	s := servertest.MustOpen(t, servertest.Options{})
	rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
	created := pollJSON(t, http.MethodPost, s.URL+"/ssf/streams", rs, `{}`)
	endpoint, _ := created.JSON["delivery"].(map[string]any)["endpoint_url"].(string)
	start := time.Now()
	answered := make(chan map[string]string)
	go func() { answered <- pollSets(t, endpoint, rs, `{}`) }()
	s.Provider.ReleasePolls()
	if sets := <-answered; len(sets) != 0 {
		t.Fatalf("released poll answered %v, want no SETs", sets)
	}
	if again := pollSets(t, endpoint, rs, `{}`); len(again) != 0 {
		t.Fatalf("poll after release answered %v", again)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("two polls took %s after the release: they were held", took)
	}
}

// TestAbandonedStreamsMakeRoom: a client at its stream limit gets a new
// stream in place of one nobody has polled for store.StreamAbandoned (a
// replica that died without deleting it); streams in use are kept.
func TestAbandonedStreamsMakeRoom(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		c := &clock{t: time.Now()}
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, Now: c.Now})
		ctx := context.Background()
		rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
		live, err := s.Store.CreateStream(ctx, rs.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		dead, err := s.Store.CreateStream(ctx, rs.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Store.CreateStream(ctx, rs.ID, 2); identity.ErrorCode(err) != identity.EINVALID {
			t.Fatalf("third stream while both are in use: %v, want refused", err)
		}
		c.Advance(store.StreamAbandoned + time.Second)
		if err := s.Store.AckStream(ctx, rs.ID, live, nil); err != nil { // its receiver polls
			t.Fatal(err)
		}
		if _, err := s.Store.CreateStream(ctx, rs.ID, 2); err != nil {
			t.Fatalf("new stream with an abandoned one at the limit: %v", err)
		}
		if err := s.Store.AckStream(ctx, rs.ID, live, nil); err != nil {
			t.Errorf("the stream in use was replaced: %v", err)
		}
		if err := s.Store.AckStream(ctx, rs.ID, dead, nil); identity.ErrorCode(err) != identity.ENOTFOUND {
			t.Errorf("the abandoned stream is still there: %v", err)
		}
	})
}
