package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
)

// PAROpenedLifespan is how long a pushed request stays usable once the
// browser has reached the authorization endpoint with it: the time to
// sign in and consent. Before that, its own expiry (≤ 60 s) applies.
const PAROpenedLifespan = 10 * time.Minute

// parSecretParams never go into the stored form: client credentials sent
// with the push (client_secret_post, private_key_jwt).
var parSecretParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// parKey is the stored form of a request_uri: it is a bearer reference to
// the request, so only its hash is kept.
func parKey(requestURI string) string {
	sum := sha256.Sum256([]byte(requestURI))
	return hex.EncodeToString(sum[:])
}

// CreatePARSession implements fosite.PARStorage: the request's form
// (without client credentials) under the hash of requestURI, until the
// session's PushedAuthorizeRequestContext expiry.
func (s *Store) CreatePARSession(ctx context.Context, requestURI string, req fosite.AuthorizeRequester) error {
	form := url.Values{}
	for k, v := range req.GetRequestForm() {
		form[k] = v
	}
	for _, k := range parSecretParams {
		form.Del(k)
	}
	raw, err := json.Marshal(form)
	if err != nil {
		return err
	}
	exp := s.now().Add(time.Minute)
	if sess := req.GetSession(); sess != nil && !sess.GetExpiresAt(fosite.PushedAuthorizeRequestContext).IsZero() {
		exp = sess.GetExpiresAt(fosite.PushedAuthorizeRequestContext)
	}
	row := parRow{RequestURIHash: parKey(requestURI), ClientID: req.GetClient().GetID(), RequestID: req.GetID(),
		RequestedAt: dbTime(req.GetRequestedAt()), Form: string(raw), ExpiresAt: dbTime(exp)}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: save pushed authorization request: %w", err)
	}
	return nil
}

// GetPARSession implements fosite.PARStorage: the pushed request, unless
// it is unknown, used or expired (fosite.ErrNotFound). Its first read
// opens it: from then on it lives PAROpenedLifespan, the time the user
// needs to sign in and consent, and the authorization endpoint may read it
// again on each step; a code is issued for it at most once
// (ConsumePARSession).
func (s *Store) GetPARSession(ctx context.Context, requestURI string) (fosite.AuthorizeRequester, error) {
	now := dbTime(s.now())
	var row parRow
	err := s.conn(ctx).Where("request_uri_hash = ? AND used = ? AND expires_at > ?", parKey(requestURI), false, now).Take(&row).Error
	if err != nil {
		return nil, fositeErr(err, "load pushed authorization request")
	}
	if !row.Opened {
		err := s.conn(ctx).Model(&parRow{}).Where("request_uri_hash = ? AND opened = ?", row.RequestURIHash, false).
			Updates(map[string]any{"opened": true, "expires_at": now.Add(PAROpenedLifespan)}).Error
		if err != nil {
			return nil, fmt.Errorf("store: open pushed authorization request: %w", err)
		}
	}
	client, err := s.GetClient(ctx, row.ClientID)
	if err != nil {
		return nil, err
	}
	var form url.Values
	if err := json.Unmarshal([]byte(row.Form), &form); err != nil {
		return nil, fmt.Errorf("store: pushed authorization request form: %w", err)
	}
	ar := fosite.NewAuthorizeRequest()
	ar.ID, ar.RequestedAt, ar.Client, ar.Form = row.RequestID, row.RequestedAt.UTC(), client, form
	ar.State = form.Get("state")
	ar.ResponseTypes = fosite.RemoveEmpty(strings.Split(form.Get("response_type"), " "))
	ar.ResponseMode = fosite.ResponseModeType(form.Get("response_mode"))
	ar.RequestedScope = fosite.RemoveEmpty(strings.Split(form.Get("scope"), " "))
	ar.RequestedAudience = fosite.GetAudiences(form)
	if ar.RedirectURI, err = url.Parse(form.Get("redirect_uri")); err != nil {
		return nil, fmt.Errorf("store: pushed authorization request redirect_uri: %w", err)
	}
	return ar, nil
}

// DeletePARSession implements fosite.PARStorage. fosite calls it as soon
// as the authorization endpoint reads the request, before the user has
// signed in; the request is consumed when its code is issued
// (ConsumePARSession) and deleted by housekeeping once expired.
func (s *Store) DeletePARSession(context.Context, string) error { return nil }

// ConsumePARSession marks the pushed request used, once: fosite.ErrNotFound
// when it is unknown, expired or was used already (a second code for one
// request_uri).
func (s *Store) ConsumePARSession(ctx context.Context, requestURI string) error {
	res := s.conn(ctx).Model(&parRow{}).Where("request_uri_hash = ? AND used = ? AND expires_at > ?", parKey(requestURI), false, dbTime(s.now())).
		Update("used", true)
	if res.Error != nil {
		return fmt.Errorf("store: use pushed authorization request: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fosite.ErrNotFound
	}
	return nil
}
