package provider

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v3/jwt"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// logoutReceiver is a client's backchannel_logout_uri: it answers with the
// statuses given in turn (the last one repeats) and keeps every token.
type logoutReceiver struct {
	mu       sync.Mutex
	statuses []int
	tokens   []string
	ctypes   []string
	srv      *httptest.Server
}

func newLogoutReceiver(t *testing.T, statuses ...int) *logoutReceiver {
	lr := &logoutReceiver{statuses: statuses}
	lr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lr.mu.Lock()
		defer lr.mu.Unlock()
		_ = r.ParseForm()
		lr.tokens = append(lr.tokens, r.PostForm.Get("logout_token"))
		lr.ctypes = append(lr.ctypes, r.Header.Get("Content-Type"))
		status := lr.statuses[min(len(lr.tokens), len(lr.statuses))-1]
		if status == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", status)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte("receiver says " + http.StatusText(status)))
	}))
	t.Cleanup(lr.srv.Close)
	return lr
}

func (lr *logoutReceiver) received() []string {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return append([]string(nil), lr.tokens...)
}

// withBackchannel registers the receiver as the web client's
// backchannel_logout_uri.
func (f *fixture) withBackchannel(uri string) {
	f.t.Helper()
	c, err := f.st.ClientByID(context.Background(), "web")
	if err != nil {
		f.t.Fatal(err)
	}
	c.BackchannelLogoutURI = uri
	if err := c.Validate(); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.UpdateClient(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) worker(backoff ...time.Duration) *BackchannelWorker {
	return &BackchannelWorker{Store: f.st, Sign: f.p.SignJWT, Issuer: f.p.Issuer, Audit: f.st, Now: f.clock, Backoff: backoff,
		Logger: slog.New(slog.DiscardHandler)}
}

func (f *fixture) runOnce(w *BackchannelWorker) int {
	f.t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) auditCount(typ string) int {
	f.t.Helper()
	_, n, err := f.st.ListAudit(context.Background(), identity.AuditFilter{Type: typ})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// verifyLogoutToken checks a logout token as a relying party must (OpenID
// Connect Back-Channel Logout 1.0 §2.6): signature by a key of our JWKS
// (go-oidc's remote key set), typ logout+jwt, iss, aud, iat/exp, jti, the
// events claim, sub and sid, and no nonce. It returns the claims.
func (f *fixture) verifyLogoutToken(token, wantSID string, issued time.Time) map[string]any {
	f.t.Helper()
	keys := oidc.NewRemoteKeySet(context.Background(), f.ts.URL+"/.well-known/jwks.json")
	payload, err := keys.VerifySignature(context.Background(), token)
	if err != nil {
		f.t.Fatalf("logout token signature: %v", err)
	}
	parsed, err := jwt.ParseSigned(token)
	if err != nil || len(parsed.Headers) != 1 {
		f.t.Fatalf("logout token: %v", err)
	}
	if typ := parsed.Headers[0].ExtraHeaders["typ"]; typ != LogoutTokenType {
		f.t.Errorf("typ = %v, want %s", typ, LogoutTokenType)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		f.t.Fatal(err)
	}
	if c["iss"] != f.p.Issuer {
		f.t.Errorf("iss = %v", c["iss"])
	}
	if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != "web" {
		f.t.Errorf("aud = %v, want [web]", c["aud"])
	}
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	if now := float64(issued.Unix()); iat != now || exp <= now || exp > now+300 {
		f.t.Errorf("iat = %v, exp = %v at %v: want iat now and a short exp", iat, exp, now)
	}
	if jti, _ := c["jti"].(string); jti == "" {
		f.t.Error("no jti")
	}
	events, _ := c["events"].(map[string]any)
	if ev, ok := events[BackchannelLogoutEvent].(map[string]any); !ok || len(ev) != 0 || len(events) != 1 {
		f.t.Errorf("events = %v, want {%q: {}}", c["events"], BackchannelLogoutEvent)
	}
	if c["sub"] != f.user.ID {
		f.t.Errorf("sub = %v, want %s", c["sub"], f.user.ID)
	}
	if sid, has := c["sid"]; wantSID == "" && has || wantSID != "" && sid != wantSID {
		f.t.Errorf("sid = %v, want %q", sid, wantSID)
	}
	if _, has := c["nonce"]; has {
		f.t.Error("a logout token must not carry a nonce")
	}
	return c
}

// A session's end reaches each client that got an ID token in it, once,
// with a verifiable logout token naming the session (sid) and the user.
func TestBackchannelLogoutDeliversOnSessionEnd(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, identity.TokenFormatOpaque)
		rcv := newLogoutReceiver(t, http.StatusOK)
		f.withBackchannel(rcv.srv.URL + "/logout")
		ctx := context.Background()
		if err := f.st.RecordSessionClient(ctx, "sid-1", "web", f.user.ID, "", f.clock().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// The resource server got no ID token: it hears nothing.
		if err := f.st.RecordSessionClient(ctx, "sid-2", "web", f.user.ID, "", f.clock().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n, err := f.st.EnqueueSessionLogouts(ctx, f.user.ID, []string{"sid-1"}); err != nil || n != 1 {
			t.Fatalf("EnqueueSessionLogouts = %d, %v; want 1", n, err)
		}
		// The outbox holds the claims to sign, never a token.
		rows, err := f.st.DB().QueryContext(ctx, "SELECT * FROM backchannel_logout_outbox")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		scanned := 0
		for rows.Next() {
			scanned++
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				if sv, ok := v.(string); ok && strings.Contains(sv, "eyJ") {
					t.Errorf("the outbox column %s holds a JWT: %.40s", cols[i], sv)
				}
			}
		}
		rows.Close()
		if scanned != 1 {
			t.Fatalf("the outbox has %d rows, want 1", scanned)
		}
		w := f.worker()
		if n := f.runOnce(w); n != 1 {
			t.Fatalf("RunOnce attempted %d, want 1", n)
		}
		got := rcv.received()
		if len(got) != 1 || rcv.ctypes[0] != "application/x-www-form-urlencoded" {
			t.Fatalf("receiver got %d tokens (%v)", len(got), rcv.ctypes)
		}
		f.verifyLogoutToken(got[0], "sid-1", f.clock())
		if n := f.runOnce(w); n != 0 || len(rcv.received()) != 1 {
			t.Fatalf("a delivered token was sent again (%d attempts)", n)
		}
		if f.auditCount(identity.EventBackchannelLogoutDelivered) != 1 {
			t.Error("delivery not in the audit log")
		}
		// The ended session is forgotten; the other one is still known.
		if n, _ := f.st.EnqueueSessionLogouts(ctx, f.user.ID, []string{"sid-1"}); n != 0 {
			t.Errorf("the ended session was notified again: %d", n)
		}
		if n, _ := f.st.EnqueueSessionLogouts(ctx, f.user.ID, []string{"sid-2"}); n != 1 {
			t.Errorf("the other session: %d, want 1", n)
		}
	})
}

// A receiver that fails gets retries after 5 s, then 30 s (test clock);
// the same jti each time; failures and the delivery are audited.
func TestBackchannelLogoutRetriesWithBackoff(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, identity.TokenFormatOpaque)
		rcv := newLogoutReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusNoContent)
		f.withBackchannel(rcv.srv.URL)
		ctx := context.Background()
		// An admin revoked the grant: no session known, so sub only.
		if n, err := f.st.EnqueueGrantLogouts(ctx, f.user.ID, []string{"web", "rs"}); err != nil || n != 1 {
			t.Fatalf("EnqueueGrantLogouts = %d, %v; want 1 (rs has no backchannel URI)", n, err)
		}
		w := f.worker()
		t0 := f.clock()
		steps := []struct {
			advance  time.Duration
			attempts int
		}{{0, 1}, {0, 0}, {4 * time.Second, 0}, {time.Second, 1}, {29 * time.Second, 0}, {time.Second, 1}, {time.Hour, 0}}
		for i, s := range steps {
			f.advance(s.advance)
			if n := f.runOnce(w); n != s.attempts {
				t.Fatalf("step %d (+%v): %d attempts, want %d", i, s.advance, n, s.attempts)
			}
			if i == 0 {
				p, _ := f.st.PendingBackchannelLogouts(ctx)
				if len(p) != 1 || p[0].Attempts != 1 || !strings.Contains(p[0].LastError, "HTTP 500") || !p[0].NextAttempt.Equal(f.clock().Add(5*time.Second)) {
					t.Fatalf("after one failure: %+v", p)
				}
			}
		}
		got := rcv.received()
		if len(got) != 3 {
			t.Fatalf("receiver got %d tokens, want 3", len(got))
		}
		first := f.verifyLogoutToken(got[0], "", t0)
		if last := f.verifyLogoutToken(got[2], "", t0.Add(35*time.Second)); last["jti"] != first["jti"] {
			t.Errorf("jti changed between attempts: %v, %v", first["jti"], last["jti"])
		}
		if a, b := f.auditCount(identity.EventBackchannelLogoutFailed), f.auditCount(identity.EventBackchannelLogoutDelivered); a != 2 || b != 1 {
			t.Errorf("audit: %d failed, %d delivered; want 2, 1", a, b)
		}
		if p, _ := f.st.PendingBackchannelLogouts(ctx); len(p) != 0 {
			t.Errorf("outbox after delivery: %+v", p)
		}
	})
}

// After the last backoff step the delivery is given up (audited, removed);
// a redirect is a failure and is not followed.
func TestBackchannelLogoutGivesUp(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, identity.TokenFormatOpaque)
		rcv := newLogoutReceiver(t, http.StatusFound)
		f.withBackchannel(rcv.srv.URL)
		ctx := context.Background()
		if _, err := f.st.EnqueueGrantLogouts(ctx, f.user.ID, []string{"web"}); err != nil {
			t.Fatal(err)
		}
		w := f.worker(time.Second)
		f.runOnce(w)
		f.advance(time.Second)
		f.runOnce(w)
		if got := rcv.received(); len(got) != 2 {
			t.Fatalf("receiver got %d requests, want 2 (the redirect target never)", len(got))
		}
		if p, _ := f.st.PendingBackchannelLogouts(ctx); len(p) != 0 {
			t.Errorf("outbox after giving up: %+v", p)
		}
		if a, b := f.auditCount(identity.EventBackchannelLogoutFailed), f.auditCount(identity.EventBackchannelLogoutGaveUp); a != 1 || b != 1 {
			t.Errorf("audit: %d failed, %d gave up; want 1, 1", a, b)
		}
	})
}

// A claimed row is leased: a second worker (another replica) does not get
// it until the lease runs out.
func TestBackchannelLogoutLease(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, identity.TokenFormatOpaque)
		f.withBackchannel("https://rp.example/logout")
		ctx := context.Background()
		if _, err := f.st.EnqueueGrantLogouts(ctx, f.user.ID, []string{"web"}); err != nil {
			t.Fatal(err)
		}
		a, err := f.st.ClaimBackchannelLogouts(ctx, f.clock(), time.Minute, 10)
		if err != nil || len(a) != 1 {
			t.Fatalf("first claim: %v, %v", a, err)
		}
		if b, err := f.st.ClaimBackchannelLogouts(ctx, f.clock(), time.Minute, 10); err != nil || len(b) != 0 {
			t.Fatalf("second replica claimed a leased row: %v, %v", b, err)
		}
		f.advance(time.Minute + time.Second)
		if c, err := f.st.ClaimBackchannelLogouts(ctx, f.clock(), time.Minute, 10); err != nil || len(c) != 1 || c[0].ID != a[0].ID {
			t.Fatalf("after the lease ran out: %v, %v", c, err)
		}
	})
}

// TestBackchannelHTTPClient: the default client gives up after 5 s and
// follows no redirect.
func TestBackchannelHTTPClient(t *testing.T) {
	c := NewBackchannelHTTPClient()
	if c.Timeout != 5*time.Second {
		t.Errorf("timeout %v, want 5s", c.Timeout)
	}
	if c.CheckRedirect == nil || c.CheckRedirect(nil, nil) != http.ErrUseLastResponse {
		t.Error("the client would follow redirects")
	}
}

// RecordSessionClient writes a session's client once per grant: another
// replica's deletion after a grant revocation (the next consent makes a
// new grant) or this process's own deletion is recorded again at the next
// ID token.
func TestRecordSessionClientAfterDeletion(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, identity.TokenFormatOpaque)
		ctx := context.Background()
		exp := f.clock().Add(time.Hour)
		record := func(grant string) {
			t.Helper()
			if err := f.st.RecordSessionClient(ctx, "sid-1", "web", f.user.ID, grant, exp); err != nil {
				t.Fatal(err)
			}
		}
		rows := func() int {
			t.Helper()
			var n int
			if err := f.st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM oidc_session_clients WHERE sid = 'sid-1'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		record("grant-1")
		record("grant-1")
		if n := rows(); n != 1 {
			t.Fatalf("after recording: %d rows, want 1", n)
		}
		// Another replica revoked the grant and queued the logouts.
		if _, err := f.st.DB().ExecContext(ctx, "DELETE FROM oidc_session_clients WHERE sid = 'sid-1'"); err != nil {
			t.Fatal(err)
		}
		record("grant-2")
		if n := rows(); n != 1 {
			t.Fatalf("under the next grant: %d rows, want 1", n)
		}
		if _, err := f.st.EnqueueSessionLogouts(ctx, f.user.ID, []string{"sid-1"}); err != nil {
			t.Fatal(err)
		}
		if n := rows(); n != 0 {
			t.Fatalf("after EnqueueSessionLogouts: %d rows, want 0", n)
		}
		record("grant-2")
		if n := rows(); n != 1 {
			t.Fatalf("after this process deleted it: %d rows, want 1", n)
		}
	})
}
