package bearer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponseBytes bounds what is read from the authorization server.
const maxResponseBytes = 1 << 20

// introspection is the RFC 7662 answer, with PetStore's token_type,
// token_use and env members.
type introspection struct {
	Active    bool       `json:"active"`
	Scope     string     `json:"scope"`
	ClientID  string     `json:"client_id"`
	Subject   string     `json:"sub"`
	Expiry    float64    `json:"exp"`
	Audience  stringList `json:"aud"`
	TokenType string     `json:"token_type"`
	TokenUse  string     `json:"token_use"`
	Env       string     `json:"env"`
	Cnf       cnf        `json:"cnf"`
	JTI       string     `json:"jti"`
}

// stringList decodes a JSON string or array of strings (aud may be either).
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// introspect asks the authorization server about token and checks that the
// answer makes it a credential for this API.
func (v *Verifier) introspect(ctx context.Context, token, kind string) (*Principal, error) {
	form := url.Values{"token": {token}}
	if kind == KindOpaque {
		form.Set("token_type_hint", "access_token")
	}
	v.introspections.Add(1)
	var ans introspection
	if err := v.call(ctx, http.MethodPost, "/oauth2/introspect", strings.NewReader(form.Encode()), true, &ans); err != nil {
		return nil, err
	}
	return v.principalFrom(&ans, kind)
}

// principalFrom turns an introspection answer into a principal, refusing
// everything that is not an active access credential for this API.
func (v *Verifier) principalFrom(a *introspection, kind string) (*Principal, error) {
	if !a.Active {
		return nil, fmt.Errorf("%w: inactive", ErrInvalid)
	}
	// A refresh token is active too, but it is not a credential for an API
	// (IN-08).
	if a.TokenUse != "access_token" {
		return nil, fmt.Errorf("%w: token_use %q", ErrInvalid, a.TokenUse)
	}
	switch kind {
	case KindAPIKey:
		if a.TokenType != "api_key" {
			return nil, fmt.Errorf("%w: token_type %q for an API key", ErrInvalid, a.TokenType)
		}
		if a.Env != v.Mode {
			return nil, fmt.Errorf("%w: %s key on a %s server", ErrInvalid, a.Env, v.Mode)
		}
	default:
		if a.TokenType != "access_token" {
			return nil, fmt.Errorf("%w: token_type %q", ErrInvalid, a.TokenType)
		}
		// Tokens only: API keys are this API's own credentials and need
		// no audience (RFC 8707).
		if !v.audienceOK(a.Audience) {
			return nil, fmt.Errorf("%w %v does not include %q", ErrAudience, []string(a.Audience), v.Audience)
		}
	}
	p := &Principal{Subject: a.Subject, ClientID: a.ClientID, Scopes: strings.Fields(a.Scope), Kind: kind, JKT: a.Cnf.JKT, tokenID: a.JTI}
	if p.Subject == "" {
		p.Subject = a.ClientID
	}
	if p.Subject == "" {
		return nil, fmt.Errorf("%w: no subject", ErrInvalid)
	}
	if a.Expiry > 0 {
		p.Expiry = time.Unix(int64(a.Expiry), 0)
		if !v.Now().Before(p.Expiry) {
			return nil, fmt.Errorf("%w: expired", ErrInvalid)
		}
	}
	return p, nil
}

// call makes a request (with this API's client credentials if
// authenticate) to the authorization server and
// decodes its JSON answer into out. Every failure is ErrUnavailable: the
// server being down, slow, answering 5xx, or refusing our own client
// credentials (a configuration error the operator must see in the logs).
func (v *Verifier) call(ctx context.Context, method, path string, body io.Reader, authenticate bool, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, v.Issuer+path, body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	if authenticate {
		// RFC 6749 §2.3.1: form-encode the id and secret before Basic.
		req.SetBasicAuth(url.QueryEscape(v.ClientID), url.QueryEscape(v.ClientSecret))
	}
	resp, err := v.HTTPClient.Do(req)
	if err != nil {
		v.Logger.WarnContext(ctx, "authorization server unreachable", "path", path, "err", err)
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
		level := "authorization server error"
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			level = "authorization server refused this API's client credentials; check client_id, client_secret and that the client may introspect"
		}
		v.Logger.ErrorContext(ctx, level, "path", path, "status", resp.StatusCode)
		return fmt.Errorf("%w: %s answered %d", ErrUnavailable, path, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(out); err != nil {
		v.Logger.ErrorContext(ctx, "authorization server sent invalid JSON", "path", path, "err", err)
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, path, err)
	}
	return nil
}
