package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// BackchannelLogoutEvent is the events member of a logout token (OpenID
// Connect Back-Channel Logout 1.0 §2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutTokenType is the typ header of logout tokens (Back-Channel Logout
// 1.0 §2.4, explicit typing as in RFC 8725 §3.11).
const LogoutTokenType = "logout+jwt"

// DefaultBackchannelBackoff is the wait after each failed delivery: 5 s,
// 30 s, 2 min, 10 min, 1 h; after the last failure the delivery is given up
// (six attempts in about 73 minutes).
var DefaultBackchannelBackoff = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour}

// BackchannelStore is the outbox the worker delivers from (pkg/store).
type BackchannelStore interface {
	ClaimBackchannelLogouts(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]identity.BackchannelLogout, error)
	FinishBackchannelLogout(ctx context.Context, id string) error
	RetryBackchannelLogout(ctx context.Context, id string, next time.Time, lastErr string) error
	ClientByID(ctx context.Context, id string) (*identity.Client, error)
}

// BackchannelWorker delivers queued logout tokens to clients'
// backchannel_logout_uri (Back-Channel Logout 1.0 §2.5): a form POST with
// logout_token; 200 or 204 is delivered, anything else (or no answer) is
// retried after Backoff. Every outcome is audited. Store, Sign and Issuer
// are required.
type BackchannelWorker struct {
	Store BackchannelStore
	// Sign signs a JWT like the client's ID tokens ((*Provider).SignJWT).
	Sign   func(ctx context.Context, clientID, typ string, claims map[string]any) (string, error)
	Issuer string
	Audit  identity.AuditLog // nil: outcomes are only logged
	// HTTP sends the requests; nil means a client with a 5 s timeout that
	// follows no redirects.
	HTTP *http.Client
	// Backoff is the wait after each failure; nil: DefaultBackchannelBackoff.
	Backoff []time.Duration
	// TokenLifetime is the logout token's exp - iat; 0 means 2 minutes.
	TokenLifetime time.Duration
	// Lease is how long a claimed row is this worker's; 0 means 1 minute
	// (more than the HTTP timeout).
	Lease  time.Duration
	Now    func() time.Time
	Logger *slog.Logger

	wakeOnce sync.Once
	wake     chan struct{}
}

func (w *BackchannelWorker) wakeCh() chan struct{} {
	w.wakeOnce.Do(func() { w.wake = make(chan struct{}, 1) })
	return w.wake
}

// Wake makes Run deliver now instead of at its next round (after tokens
// were queued); it never blocks.
func (w *BackchannelWorker) Wake() {
	select {
	case w.wakeCh() <- struct{}{}:
	default:
	}
}

// maxResponseBody is how much of a client's answer is read (for the error
// message); the rest is never read.
const maxResponseBody = 1 << 10

func (w *BackchannelWorker) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

func (w *BackchannelWorker) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

func (w *BackchannelWorker) httpClient() *http.Client {
	if w.HTTP != nil {
		return w.HTTP
	}
	return NewBackchannelHTTPClient()
}

// NewBackchannelHTTPClient is the default client of the worker: 5 s
// timeout, no redirects followed (a 3xx is a failed delivery).
func NewBackchannelHTTPClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Run delivers due logout tokens every interval until ctx ends.
func (w *BackchannelWorker) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.log().Error("back-channel logout", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wakeCh():
		}
	}
}

// RunOnce claims the due deliveries and attempts each once; it returns how
// many it attempted.
func (w *BackchannelWorker) RunOnce(ctx context.Context) (int, error) {
	lease := w.Lease
	if lease <= 0 {
		lease = time.Minute
	}
	due, err := w.Store.ClaimBackchannelLogouts(ctx, w.now(), lease, 50)
	if err != nil {
		return 0, err
	}
	for _, d := range due {
		w.attempt(ctx, d)
	}
	return len(due), nil
}

func (w *BackchannelWorker) attempt(ctx context.Context, d identity.BackchannelLogout) {
	c, err := w.Store.ClientByID(ctx, d.ClientID)
	if err == nil && (c.BackchannelLogoutURI == "" || c.Disabled) {
		err = errors.New("the client no longer has a backchannel logout URI")
	}
	if err != nil {
		// Nothing to deliver to any more: give up at once.
		w.finish(ctx, d, identity.EventBackchannelLogoutGaveUp, "", err.Error())
		return
	}
	err = w.deliver(ctx, c, d)
	if err == nil {
		w.finish(ctx, d, identity.EventBackchannelLogoutDelivered, c.BackchannelLogoutURI, "")
		return
	}
	backoff := w.Backoff
	if backoff == nil {
		backoff = DefaultBackchannelBackoff
	}
	if d.Attempts >= len(backoff) {
		w.finish(ctx, d, identity.EventBackchannelLogoutGaveUp, c.BackchannelLogoutURI, err.Error())
		return
	}
	next := w.now().Add(backoff[d.Attempts])
	if rerr := w.Store.RetryBackchannelLogout(ctx, d.ID, next, err.Error()); rerr != nil {
		w.log().Error("back-channel logout: schedule retry", "id", d.ID, "err", rerr)
	}
	w.record(ctx, d, identity.EventBackchannelLogoutFailed, c.BackchannelLogoutURI, err.Error(),
		map[string]string{"next_attempt": next.Format(time.RFC3339)})
}

func (w *BackchannelWorker) finish(ctx context.Context, d identity.BackchannelLogout, event, uri, reason string) {
	if err := w.Store.FinishBackchannelLogout(ctx, d.ID); err != nil {
		w.log().Error("back-channel logout: finish", "id", d.ID, "err", err)
	}
	w.record(ctx, d, event, uri, reason, nil)
}

func (w *BackchannelWorker) record(ctx context.Context, d identity.BackchannelLogout, event, uri, reason string, extra map[string]string) {
	details := map[string]string{"jti": d.ID, "attempt": strconv.Itoa(d.Attempts + 1), "uri": uri}
	if d.SID != "" {
		details["sid"] = d.SID
	}
	for k, v := range extra {
		details[k] = v
	}
	outcome := "success"
	if reason != "" {
		outcome, details["error"] = "failure", reason
	}
	e := &identity.AuditEvent{Type: event, Time: w.now(), ActorID: "backchannel-logout", UserID: d.Subject,
		ClientID: d.ClientID, Outcome: outcome, Details: details}
	w.log().Info("back-channel logout", "event", event, "client_id", d.ClientID, "jti", d.ID, "attempt", d.Attempts+1, "error", reason)
	if w.Audit == nil {
		return
	}
	if err := w.Audit.RecordAudit(ctx, e); err != nil {
		w.log().Error("record audit event", "type", event, "err", err)
	}
}

// deliver signs a fresh logout token for d and POSTs it.
func (w *BackchannelWorker) deliver(ctx context.Context, c *identity.Client, d identity.BackchannelLogout) error {
	life := w.TokenLifetime
	if life <= 0 {
		life = 2 * time.Minute
	}
	now := w.now()
	claims := map[string]any{
		"iss": w.Issuer, "aud": []string{c.ID}, "iat": now.Unix(), "exp": now.Add(life).Unix(), "jti": d.ID,
		"sub":    d.Subject,
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	if d.SID != "" {
		claims["sid"] = d.SID
	}
	token, err := w.Sign(ctx, c.ID, LogoutTokenType, claims)
	if err != nil {
		return fmt.Errorf("sign the logout token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI,
		strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := w.httpClient().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the audit event already
		}
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, maxResponseBody))
	if res.StatusCode == http.StatusOK || res.StatusCode == http.StatusNoContent {
		return nil
	}
	return fmt.Errorf("HTTP %d %s", res.StatusCode, printable(body, 200))
}

// printable keeps the first n printable ASCII characters of b, for an
// error message that goes to logs.
func printable(b []byte, n int) string {
	var sb strings.Builder
	for _, c := range b {
		if sb.Len() >= n {
			break
		}
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		}
	}
	return strings.TrimSpace(sb.String())
}
