package provider

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// The device authorization grant (RFC 8628), ours: fosite v0.49 has none.
// POST /oauth2/device/auth hands a device a device_code and a user_code;
// the user enters the user code at /device (pkg/web), signs in and
// decides; the device polls the token endpoint with the device code
// (deviceGrant, token_device.go).
const (
	// DeviceCodeLifespan is how long a device authorization request lives
	// (RFC 8628 §3.2 expires_in).
	DeviceCodeLifespan = 10 * time.Minute
	// DevicePollInterval is the minimum time between polls (§3.2
	// interval); each slow_down adds 5 s to it for that request (§3.5).
	DevicePollInterval = 5 * time.Second
	// DevicePath is the verification_uri's path, served by pkg/web.
	DevicePath = "/device"
)

// DeviceStorage keeps device authorization requests (pkg/store device.go).
type DeviceStorage interface {
	CreateDeviceCode(ctx context.Context, d *identity.DeviceCode) error
	DeviceCodeByUserCode(ctx context.Context, userCodeHash string) (*identity.DeviceCode, error)
	DeviceCodeByHash(ctx context.Context, deviceCodeHash string) (*identity.DeviceCode, error)
	DecideDeviceCode(ctx context.Context, userCodeHash, userID, grantID string, granted []string, approve bool) error
	PollDeviceCode(ctx context.Context, deviceCodeHash string, now time.Time) (*identity.DeviceCode, bool, error)
	RedeemDeviceCode(ctx context.Context, deviceCodeHash string) error
}

// deviceAuthorization is the RFC 8628 §3.2 answer.
type deviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// handleDeviceAuthorization is the device authorization endpoint (RFC 8628
// §3.1): the client authenticates (a public client by its client_id) and
// must be registered for the device grant; the scopes are the client's.
func (p *Provider) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	out, err := p.deviceAuthorization(r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusOK, out)
}

// deviceScopes checks the scopes a device asks for against its client, and
// the resources it names: device tokens are for the default resource, and
// another one named is refused rather than silently replaced.
func (p *Provider) deviceScopes(client fosite.Client, scope string, resources []string) ([]string, error) {
	if len(scope) > identity.MaxScopeLength {
		return nil, oauthError(http.StatusBadRequest, "invalid_scope", "The 'scope' parameter is too long.")
	}
	scopes := strings.Fields(scope)
	for _, s := range scopes {
		if !slices.Contains(client.GetScopes(), s) {
			return nil, oauthError(http.StatusBadRequest, "invalid_scope", "The client may not request the scope '"+s+"'.")
		}
	}
	if len(resources) > 0 {
		aud, err := p.ResolveResources(resources, scopes)
		if err != nil {
			return nil, err
		}
		if len(aud) != 1 || aud[0] != p.cfg.Resources.Default() {
			return nil, invalidTarget("The device grant issues tokens for the default resource " + p.cfg.Resources.Default() + " only.")
		}
	}
	return scopes, nil
}

func (p *Provider) deviceAuthorization(r *http.Request) (*deviceAuthorization, error) {
	ctx := r.Context()
	if err := parseForm(r); err != nil {
		return nil, err
	}
	if err := requireClientAuth(r); err != nil {
		return nil, err
	}
	client, err := p.fosite.AuthenticateClient(ctx, r, r.PostForm)
	if errors.Is(err, fosite.ErrTemporarilyUnavailable) {
		return nil, unavailable("The client could not be checked; retry.", err)
	} else if err != nil {
		return nil, oauthError(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
	}
	if !client.GetGrantTypes().Has(identity.GrantDeviceCode) {
		return nil, oauthError(http.StatusBadRequest, "unauthorized_client", "This client is not registered for the device authorization grant.")
	}
	scope := r.PostForm.Get("scope")
	scopes, err := p.deviceScopes(client, scope, r.PostForm["resource"])
	if err != nil {
		return nil, err
	}
	deviceCode := newDeviceCode()
	now := p.now()
	d := &identity.DeviceCode{DeviceCodeHash: hashDeviceCode(deviceCode), ClientID: client.GetID(), Scopes: scopes,
		DeviceUserAgent: truncate(r.UserAgent(), 200), DeviceAddress: clientaddr.Of(r),
		Interval: DevicePollInterval, ExpiresAt: now.Add(DeviceCodeLifespan)}
	var userCode string
	for range 3 { // a user code still in the table (ECONFLICT): draw again
		userCode = identity.NewUserCode()
		norm, _ := identity.NormalizeUserCode(userCode)
		d.UserCodeHash = p.hashUserCode(norm)
		if err = p.store.CreateDeviceCode(ctx, d); identity.ErrorCode(err) != identity.ECONFLICT {
			break
		}
	}
	if err != nil {
		return nil, unavailable("The request could not be stored; retry.", err)
	}
	p.record(ctx, identity.EventDeviceRequested, "success", client.GetID(), "", map[string]string{"scope": scope})
	verify := p.Issuer + DevicePath
	return &deviceAuthorization{DeviceCode: deviceCode, UserCode: userCode, VerificationURI: verify,
		VerificationURIComplete: verify + "?user_code=" + url.QueryEscape(userCode),
		ExpiresIn:               int(DeviceCodeLifespan / time.Second), Interval: int(DevicePollInterval / time.Second)}, nil
}

// newDeviceCode returns a device code shaped like our opaque tokens
// (tokenformat: prefix, 256-bit random part, checksum), so scanners and
// Open recognise it.
func newDeviceCode() string {
	key, sig := make([]byte, 16), make([]byte, 32)
	_, _ = rand.Read(key)
	_, _ = rand.Read(sig)
	enc := base64.RawURLEncoding.EncodeToString
	return tokenformat.Seal(tokenformat.DeviceCode, enc(key)+"."+enc(sig))
}

// hashDeviceCode is the stored form of a device code: SHA-256, hex (256
// random bits need no slow or keyed hash).
func hashDeviceCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// hashUserCode is the stored form of a normalised user code: HMAC-SHA-256
// under a key derived from the system secret. A user code has only 34.5
// bits, which a plain hash of a leaked table would give up at once.
func (p *Provider) hashUserCode(normalized string) string {
	m := hmac.New(sha256.New, deriveKey(p.cfg.Secret, "device-user-code"))
	m.Write([]byte(normalized))
	return hex.EncodeToString(m.Sum(nil))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// ErrUserCode is every refusal of a user code at /device: malformed,
// unknown, expired or decided. The page shows one message for all.
var ErrUserCode = identity.Errorf(identity.ENOTFOUND, "That code is not valid. Check it and try again; codes expire after 10 minutes.")

// DeviceRequest is a pending device authorization, as the /device page
// shows it.
type DeviceRequest struct {
	UserCode        string // XXXX-XXXX
	ClientID        string
	Scopes          []string
	DeviceUserAgent string
	DeviceAddress   string
	ExpiresAt       time.Time
}

// LookupUserCode returns the pending, unexpired request of a user code as
// typed (case, dashes and spaces ignored), or ErrUserCode.
func (p *Provider) LookupUserCode(ctx context.Context, typed string) (*DeviceRequest, error) {
	norm, ok := identity.NormalizeUserCode(typed)
	if !ok {
		return nil, ErrUserCode
	}
	d, err := p.store.DeviceCodeByUserCode(ctx, p.hashUserCode(norm))
	if identity.IsNotFound(err) {
		return nil, ErrUserCode
	} else if err != nil {
		return nil, err
	}
	if d.Status != identity.DevicePending || !p.now().Before(d.ExpiresAt) {
		return nil, ErrUserCode
	}
	return &DeviceRequest{UserCode: identity.FormatUserCode(norm), ClientID: d.ClientID, Scopes: d.Scopes,
		DeviceUserAgent: d.DeviceUserAgent, DeviceAddress: d.DeviceAddress, ExpiresAt: d.ExpiresAt}, nil
}

// DecideUserCode records the signed-in user's decision on the request of a
// user code: approved for grantID with the granted scopes, or denied. A
// request no longer pending is ErrUserCode.
func (p *Provider) DecideUserCode(ctx context.Context, typed, userID, grantID string, granted []string, approve bool) error {
	norm, ok := identity.NormalizeUserCode(typed)
	if !ok {
		return ErrUserCode
	}
	err := p.store.DecideDeviceCode(ctx, p.hashUserCode(norm), userID, grantID, granted, approve)
	if identity.ErrorCode(err) == identity.ECONFLICT {
		return ErrUserCode
	}
	return err
}
