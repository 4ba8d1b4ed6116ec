package provider

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"
)

// The refresh grace window (DESIGN §4), all of it. A refresh token
// presented again by its client within RefreshGraceWindow of its rotation
// gets the same successor pair, so two tabs or a lost response never log a
// user out; after the window it is reuse and fosite revokes the family.
//
//  1. rotateRefresh: fosite rotates the token inside a transaction of ours;
//     keepSuccessor seals the pair fosite returned (AES-GCM, bound to the
//     old token's signature) beside the old token (SaveRotation) before
//     the commit, so the blob exists exactly when the rotation does.
//  2. A replay that reads the old token after that commit: fositeStorage's
//     GetRefreshTokenSession reports graceReplay instead of
//     fosite.ErrInactiveToken (which fosite treats as reuse). A replay that
//     read it before, and then lost the conditional update, fails with a
//     serialisation error (lostRace). refreshGrant.failed sends both to
//     replayRotation.
//  3. replayRotation opens the pair and answers with it, written by
//     fosite's response writer like any token response.
//  4. The store drops the blobs once the window is over
//     (ClearRotations, run by the server's housekeeping); revoking the
//     family disowns them at once (RotationOf finds none).

// graceReplay is the error fositeStorage reports for a refresh token
// rotated within the grace window; it carries what replayRotation needs.
type graceReplay struct {
	requestID, clientID string
	sealed              []byte
}

func (graceReplay) Error() string { return "refresh token rotated within the grace window" }

// successor is the sealed answer to a refresh request.
type successor struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Scope        string    `json:"scope"`
	ExpiresAt    time.Time `json:"expires_at"`
	RefreshSig   string    `json:"refresh_sig"`
	// Requested is the normalised scope parameter of the rotating request.
	Requested string `json:"requested,omitempty"`
	// IDToken is the ID token of a grant with openid (OIDC Core §12.2).
	IDToken string `json:"id_token,omitempty"`
}

// rotateRefresh has fosite rotate the refresh token (its transaction joins
// ours: a flat transaction, no savepoint round trips) and keeps the
// successor pair in the same transaction. Any failure rolls all of it back.
func (p *Provider) rotateRefresh(ctx context.Context, req *tokenRequest) (resp fosite.AccessResponder, err error) {
	if p.cfg.RefreshGraceWindow <= 0 && req.keepScope == nil && req.keepAudience == nil {
		return p.OAuth2.NewAccessResponse(ctx, req.ar)
	}
	tx, err := p.store.BeginFlatTX(ctx)
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	defer func() {
		if err != nil {
			_ = p.store.Rollback(tx)
		}
	}()
	if resp, err = p.OAuth2.NewAccessResponse(tx, req.ar); err != nil {
		return nil, err
	}
	if err = p.keepSuccessor(tx, req, resp); err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	if err = p.store.Commit(tx); err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	return resp, nil
}

// keepSuccessor restores the full scope of a narrowed request's new
// refresh token and seals the pair beside the old token for the window.
func (p *Provider) keepSuccessor(tx context.Context, req *tokenRequest, resp fosite.AccessResponder) error {
	refresh, _ := resp.GetExtra("refresh_token").(string)
	newSig := p.strategy.RefreshTokenSignature(tx, refresh)
	if req.keepScope != nil {
		if err := p.store.SetRefreshTokenScopes(tx, newSig, req.keepScope); err != nil {
			return err
		}
	}
	if req.keepAudience != nil {
		if err := p.store.SetRefreshTokenAudience(tx, newSig, req.keepAudience); err != nil {
			return err
		}
	}
	if p.cfg.RefreshGraceWindow <= 0 || noRefreshGrace(req) {
		return nil
	}
	idToken, _ := resp.GetExtra("id_token").(string)
	blob, err := json.Marshal(successor{IDToken: idToken,
		AccessToken: resp.GetAccessToken(), RefreshToken: refresh, Scope: strings.Join(req.ar.GetGrantedScopes(), " "),
		ExpiresAt: req.ar.GetSession().GetExpiresAt(fosite.AccessToken), RefreshSig: newSig, Requested: normaliseScope(req.form("scope")),
	})
	if err != nil {
		return err
	}
	oldSig := p.strategy.RefreshTokenSignature(tx, req.form("refresh_token"))
	return p.store.SaveRotation(tx, oldSig, p.sealer.seal(blob, []byte(oldSig)))
}

// rotationInWindow returns the grace-window record of the rotated refresh
// token oldSig, if it was rotated within the window and its pair is kept.
func (p *Provider) rotationInWindow(ctx context.Context, oldSig string) (graceReplay, bool) {
	if p.cfg.RefreshGraceWindow <= 0 {
		return graceReplay{}, false
	}
	rot, err := p.store.RotationOf(ctx, oldSig)
	if err != nil || len(rot.Sealed) == 0 || p.now().Sub(rot.RotatedAt) > p.cfg.RefreshGraceWindow {
		return graceReplay{}, false
	}
	return graceReplay{requestID: rot.RequestID, clientID: rot.ClientID, sealed: rot.Sealed}, true
}

// replayRotation answers a refresh request whose token was rotated within
// the grace window with the same successor pair. When the pair cannot be
// used — it does not open, or its refresh token was rotated or revoked since
// (the old token is then plain reuse) — the answer is otherwise.
func (p *Provider) replayRotation(ctx context.Context, req *tokenRequest, rot graceReplay, otherwise error) (fosite.AccessResponder, error) {
	oldSig := p.strategy.RefreshTokenSignature(ctx, req.form("refresh_token"))
	var s successor
	plain, err := p.sealer.open(rot.sealed, []byte(oldSig))
	if err != nil || rot.clientID != req.client() || json.Unmarshal(plain, &s) != nil {
		return nil, otherwise
	}
	if _, err := p.store.GetRefreshTokenSession(ctx, s.RefreshSig, NewSession("", "")); err != nil {
		return nil, otherwise
	}
	// The pair answers the request that made it: a replay asking for
	// another scope would get tokens it did not ask for. It is refused and
	// changes nothing; the client may use the successor it received.
	if normaliseScope(req.form("scope")) != s.Requested {
		return nil, fosite.ErrInvalidGrant.WithHint("The refresh token was just rotated; repeat the request with the same scope, or use the new refresh token.")
	}
	p.record(ctx, "token.refresh_replayed", "success", rot.clientID, "", map[string]string{"request_id": rot.requestID})
	resp := fosite.NewAccessResponse()
	resp.SetAccessToken(s.AccessToken)
	resp.SetTokenType("bearer")
	resp.SetExpiresIn(max(0, s.ExpiresAt.Sub(p.now())))
	resp.SetScopes(strings.Fields(s.Scope))
	resp.SetExtra("refresh_token", s.RefreshToken)
	if s.IDToken != "" {
		resp.SetExtra("id_token", s.IDToken)
	}
	return resp, nil
}

// GetRefreshTokenSession hides another client's refresh token from the
// token endpoint (notTheCallers) and there reports a token rotated within
// the grace window as graceReplay rather than fosite.ErrInactiveToken.
// Revocation and introspection see the stored verdict unchanged.
func (s *fositeStorage) GetRefreshTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	req, err := s.Storage.GetRefreshTokenSession(ctx, sig, sess)
	if notTheCallers(ctx, req) {
		return nil, fosite.ErrNotFound
	}
	if _, atToken := tokenCaller(ctx); atToken && errors.Is(err, fosite.ErrInactiveToken) {
		if rot, ok := s.p.rotationInWindow(ctx, sig); ok {
			return req, rot
		}
	}
	return req, err
}

// lostRace reports whether err is a storage conflict with a parallel request.
func lostRace(err error) bool {
	return errors.Is(err, fosite.ErrSerializationFailure)
}

// normaliseScope is a scope parameter as a sorted set, to compare requests.
func normaliseScope(scope string) string {
	f := strings.Fields(scope)
	slices.Sort(f)
	return strings.Join(slices.Compact(f), " ")
}
