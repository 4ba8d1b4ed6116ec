package bearer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// The security event receiver: the authorization server pushes
// revocations as Security Event Tokens (RFC 8417) on an OpenID Shared
// Signals 1.0 stream of this replica's own, delivered by long polling
// (RFC 8936). A revoked credential's cache entry is dropped, and a JWT's
// id put on the deny list, as soon as its event arrives, so the API
// refuses it within a second instead of CacheTTL (opaque tokens, API
// keys) or RevocationPollInterval (JWTs). Those bounds stay as they are:
// while the channel is down nothing is lost beyond them.

// Event vocabulary (CAEP 1.0 credential-change; RFC 9493 / SSF 1.0
// subject identifiers); the authorization server's pkg/identity names
// the same strings.
const (
	eventCredentialChange = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	deliveryPoll          = "urn:ietf:rfc:8936"
	setType               = "secevent+jwt"
)

const (
	// eventsPollTimeout bounds one held poll: the server holds it at most
	// 25 s.
	eventsPollTimeout = 40 * time.Second
	// eventsRetryMin and eventsRetryMax bound the wait after a failure.
	eventsRetryMin = time.Second
	eventsRetryMax = 30 * time.Second
	// maxEventsPerPoll is the maxEvents asked for.
	maxEventsPerPoll = 100
)

// errStreamGone: the server no longer knows our stream (deleted while we
// were away); a new one is made.
var errStreamGone = errors.New("bearer: event stream gone")

// eventStream is the receiver's state; only ReceiveEvents's goroutine
// touches it.
type eventStream struct {
	id, pollURL string
	ack         []string
	setErrs     map[string]setErr
	down        bool // the last attempt failed (log transitions only)
}

// setErr is an RFC 8936 §2.4.4 error for a SET we could not accept.
type setErr struct {
	Err         string `json:"err"`
	Description string `json:"description"`
}

// ReceiveEvents creates this replica's event stream at the authorization
// server and long-polls it until ctx is done, applying each revocation at
// once and acknowledging it in the next poll; then it deletes the stream.
// Failures are logged and retried with backoff (1 s to 30 s); meanwhile
// the cache and revocation-poll bounds apply as without events.
func (v *Verifier) ReceiveEvents(ctx context.Context) {
	v.init()
	hc := &http.Client{Transport: v.HTTPClient.Transport, Timeout: eventsPollTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s := &eventStream{}
	wait := eventsRetryMin
	for ctx.Err() == nil {
		err := v.receive(ctx, hc, s)
		if err == nil {
			if s.down {
				v.Logger.InfoContext(ctx, "security event stream up again", "stream_id", s.id)
				s.down = false
			}
			wait = eventsRetryMin
			continue
		}
		if ctx.Err() != nil {
			break
		}
		if !s.down {
			v.Logger.WarnContext(ctx, "security event stream down; revocations reach this API within the cache and poll bounds until it is back", "err", err)
			s.down = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, eventsRetryMax)
	}
	if s.id != "" {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
		defer cancel()
		_, _ = v.sendJSON(dctx, hc, http.MethodDelete, v.Issuer+"/ssf/streams?stream_id="+url.QueryEscape(s.id), nil, nil)
	}
}

// receive makes the stream if needed and does one poll.
func (v *Verifier) receive(ctx context.Context, hc *http.Client, s *eventStream) error {
	if s.id == "" {
		if err := v.createStream(ctx, hc, s); err != nil {
			return err
		}
	}
	req := map[string]any{"ack": s.ack, "maxEvents": maxEventsPerPoll, "returnImmediately": false}
	if len(s.setErrs) > 0 {
		req["setErrs"] = s.setErrs
	}
	var ans struct {
		Sets map[string]string `json:"sets"`
	}
	status, err := v.sendJSON(ctx, hc, http.MethodPost, s.pollURL, req, &ans)
	if status == http.StatusNotFound {
		*s = eventStream{down: s.down}
		return errStreamGone
	}
	if err != nil {
		return err
	}
	s.ack, s.setErrs = nil, nil
	for jti, set := range ans.Sets {
		err := v.applySET(ctx, jti, set)
		switch {
		case errors.Is(err, ErrUnavailable):
			// e.g. the JWKS could not be fetched: not acknowledged, so
			// it comes again.
			v.Logger.WarnContext(ctx, "security event not applied yet", "jti", jti, "err", err)
			continue
		case err != nil:
			v.Logger.ErrorContext(ctx, "security event refused", "jti", jti, "err", err)
			if s.setErrs == nil {
				s.setErrs = map[string]setErr{}
			}
			s.setErrs[jti] = setErr{Err: "invalid_request", Description: err.Error()}
		default:
			s.ack = append(s.ack, jti)
		}
		if v.OnEvent != nil {
			v.OnEvent(jti, err)
		}
	}
	return nil
}

// createStream asks for a poll-delivery stream (SSF 1.0 §8.1.1.1) and
// checks that it is polled at the issuer, where our credentials may go.
func (v *Verifier) createStream(ctx context.Context, hc *http.Client, s *eventStream) error {
	req := map[string]any{"delivery": map[string]string{"method": deliveryPoll}, "events_requested": []string{eventCredentialChange}}
	var ans struct {
		StreamID string `json:"stream_id"`
		Delivery struct {
			Method      string `json:"method"`
			EndpointURL string `json:"endpoint_url"`
		} `json:"delivery"`
	}
	status, err := v.sendJSON(ctx, hc, http.MethodPost, v.Issuer+"/ssf/streams", req, &ans)
	if err != nil {
		return err
	}
	if status != http.StatusCreated || ans.StreamID == "" || ans.Delivery.Method != deliveryPoll ||
		!strings.HasPrefix(ans.Delivery.EndpointURL, v.Issuer+"/") {
		return fmt.Errorf("%w: unusable stream configuration (status %d)", ErrUnavailable, status)
	}
	s.id, s.pollURL = ans.StreamID, ans.Delivery.EndpointURL
	return nil
}

// sendJSON sends body as JSON with this API's client credentials and
// decodes a 2xx answer into out. A 404 is returned as its status with
// an error.
func (v *Verifier) sendJSON(ctx context.Context, hc *http.Client, method, u string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(v.ClientID), url.QueryEscape(v.ClientSecret))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
		return resp.StatusCode, fmt.Errorf("%w: %s %s answered %d", ErrUnavailable, method, req.URL.Path, resp.StatusCode)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("%w: %s: %v", ErrUnavailable, req.URL.Path, err)
	}
	return resp.StatusCode, nil
}

// setClaims are the SET claims the receiver reads (RFC 8417 §2.2, SSF 1.0
// §4.1: the subject is the top-level sub_id).
type setClaims struct {
	jwt.Claims
	Subject map[string]string                     `json:"sub_id"`
	Events  map[string]map[string]json.RawMessage `json:"events"`
}

// applySET verifies a SET — ES256 with a key of the issuer's JWKS, typ
// secevent+jwt, our issuer, our client id in aud, the jti it was
// delivered under — and applies its revocations. An ErrUnavailable means
// "try again later"; any other error refuses the SET for good.
func (v *Verifier) applySET(ctx context.Context, jti, set string) error {
	if err := canonicalJWS(set); err != nil {
		return err
	}
	tok, err := jwt.ParseSigned(set)
	if err != nil || len(tok.Headers) != 1 {
		return fmt.Errorf("%w: not a signed JWT", ErrInvalid)
	}
	h := tok.Headers[0]
	if h.Algorithm != string(jose.ES256) {
		return fmt.Errorf("%w: algorithm %q not allowed", ErrInvalid, h.Algorithm)
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); strings.TrimPrefix(strings.ToLower(typ), "application/") != setType {
		return fmt.Errorf("%w: typ %q", ErrInvalid, typ)
	}
	key, err := v.key(ctx, h.KeyID, jose.ES256)
	if err != nil {
		return err
	}
	var c setClaims
	if err := tok.Claims(key, &c); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch {
	case c.Issuer != v.Issuer:
		return fmt.Errorf("%w: issuer %q", ErrInvalid, c.Issuer)
	case !slices.Contains([]string(c.Audience), v.ClientID):
		return fmt.Errorf("%w: audience %v", ErrInvalid, []string(c.Audience))
	case c.ID != jti:
		return fmt.Errorf("%w: jti %q delivered as %q", ErrInvalid, c.ID, jti)
	}
	for typ, members := range c.Events {
		if typ == eventCredentialChange && string(members["change_type"]) == `"revoke"` {
			if err := v.revokeSubject(c.Subject); err != nil {
				return err
			}
		}
	}
	return nil
}

// revokeSubject applies a revoked credential: a JWT's id goes on the deny
// list (until the revocation poll, which knows its exp, has surely seen
// it), an opaque token's or API key's cache entry is dropped.
func (v *Verifier) revokeSubject(sub map[string]string) error {
	v.revGen.Add(1) // before the drop: see introspectCached
	switch sub["format"] {
	case "jwt_id":
		if sub["iss"] != v.Issuer || sub["jti"] == "" {
			return fmt.Errorf("%w: jwt_id subject of another issuer", ErrInvalid)
		}
		until := v.Now().Add(2 * v.RevocationMaxAge)
		r := &v.revoke
		r.mu.Lock()
		if r.jtis[sub["jti"]].Before(until) {
			r.jtis[sub["jti"]] = until
		}
		r.mu.Unlock()
		v.jwtCache.dropID(sub["jti"])
	case "opaque":
		if sub["id"] == "" {
			return fmt.Errorf("%w: opaque subject without id", ErrInvalid)
		}
		v.cache.dropID(sub["id"])
	default:
		return fmt.Errorf("%w: subject format %q", ErrInvalid, sub["format"])
	}
	return nil
}
