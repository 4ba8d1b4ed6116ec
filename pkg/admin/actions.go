package admin

import (
	"context"
	"strconv"
	"strings"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
)

// The actions below are shared by the JSON API and the pages. Each records
// exactly one audit event, successful or not, once its input has parsed.

// record writes one audit event. The AuditLog (pkg/audit) writes its slog
// line. The action has already happened when record is called, so a failed
// audit write is logged, not returned.
func (h *Handler) record(ctx context.Context, a *actor, e *identity.AuditEvent, err error) {
	e.Time = h.now()
	e.ActorID, e.IP, e.UserAgent = a.ID, a.IP, a.UA
	e.Outcome = "success"
	if e.Details == nil {
		e.Details = map[string]string{}
	}
	e.Details["actor_kind"], e.Details["via"], e.Details["credential"] = a.Kind, a.Via, a.Cred
	if err != nil {
		e.Outcome = "failure"
		e.Details["error"] = identity.ErrorCode(err)
	}
	if werr := h.Audit.RecordAudit(context.WithoutCancel(ctx), e); werr != nil {
		h.logger(ctx).Error("audit write failed", "event", e.Type, "outcome", e.Outcome, "actor_id", e.ActorID, "err", werr)
	}
}

// ClientInput is a client registration as an admin submits it.
type ClientInput struct {
	ID           string   `json:"id,omitempty"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	GrantTypes   []string `json:"grant_types,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	Audience     []string `json:"audience,omitempty"`
	Public       bool     `json:"public,omitempty"`
	// AllowedOrigins: extra browser origins of a public client (CORS).
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	CanIntrospect  bool     `json:"can_introspect,omitempty"`
	TokenFormat    string   `json:"token_format,omitempty"`
}

// ClientPatch changes some fields of a client; nil fields stay as they are.
type ClientPatch struct {
	Name           *string   `json:"name,omitempty"`
	RedirectURIs   *[]string `json:"redirect_uris,omitempty"`
	GrantTypes     *[]string `json:"grant_types,omitempty"`
	Scopes         *[]string `json:"scopes,omitempty"`
	Audience       *[]string `json:"audience,omitempty"`
	AllowedOrigins *[]string `json:"allowed_origins,omitempty"`
	CanIntrospect  *bool     `json:"can_introspect,omitempty"`
	TokenFormat    *string   `json:"token_format,omitempty"`
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// createClient registers a client. The secret (empty for a public client)
// is returned once and stored only as its SHA-256.
func (h *Handler) createClient(ctx context.Context, a *actor, in ClientInput) (_ *identity.Client, secret string, err error) {
	c := &identity.Client{
		ID: strings.TrimSpace(in.ID), Name: strings.TrimSpace(in.Name),
		RedirectURIs: orEmpty(in.RedirectURIs), GrantTypes: in.GrantTypes, Scopes: orEmpty(in.Scopes),
		Audience: orEmpty(in.Audience), Public: in.Public, AllowedOrigins: in.AllowedOrigins, CanIntrospect: in.CanIntrospect, TokenFormat: in.TokenFormat,
	}
	if c.ID == "" {
		c.ID = identity.NewClientID(c.Name)
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken}
		if len(c.RedirectURIs) == 0 && !c.Public {
			c.GrantTypes = []string{identity.GrantClientCredentials}
		}
	}
	if c.TokenFormat == "" {
		c.TokenFormat = identity.TokenFormatOpaque
	}
	defer func() {
		h.record(ctx, a, &identity.AuditEvent{Type: "admin.client.created", ClientID: c.ID, Details: map[string]string{
			"name": c.Name, "scopes": strings.Join(c.Scopes, " "), "grant_types": strings.Join(c.GrantTypes, " "),
			"public": strconv.FormatBool(c.Public),
		}}, err)
	}()
	if err := c.Validate(); err != nil {
		return nil, "", err
	}
	// A client id equal to a user id would let the client's tokens pass
	// for the user's (checklist AT-08).
	if _, err := h.Users.UserByID(ctx, c.ID); err == nil {
		return nil, "", identity.Errorf(identity.ECONFLICT, "The client id %q is taken.", c.ID)
	} else if !identity.IsNotFound(err) {
		return nil, "", err
	}
	if !c.Public {
		secret, c.SecretHash = identity.NewClientSecret()
	}
	if err := h.Clients.CreateClient(ctx, c); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// updateClient applies a patch and validates the result before storing it.
func (h *Handler) updateClient(ctx context.Context, a *actor, id string, p ClientPatch) (c *identity.Client, err error) {
	var changed []string
	defer func() {
		h.record(ctx, a, &identity.AuditEvent{Type: "admin.client.updated", ClientID: id,
			Details: map[string]string{"fields": strings.Join(changed, " ")}}, err)
	}()
	c, err = h.Clients.ClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	set := func(name string, ok bool, apply func()) {
		if ok {
			apply()
			changed = append(changed, name)
		}
	}
	set("name", p.Name != nil, func() { c.Name = strings.TrimSpace(*p.Name) })
	set("redirect_uris", p.RedirectURIs != nil, func() { c.RedirectURIs = orEmpty(*p.RedirectURIs) })
	set("grant_types", p.GrantTypes != nil, func() { c.GrantTypes = orEmpty(*p.GrantTypes) })
	set("scopes", p.Scopes != nil, func() { c.Scopes = orEmpty(*p.Scopes) })
	set("audience", p.Audience != nil, func() { c.Audience = orEmpty(*p.Audience) })
	set("allowed_origins", p.AllowedOrigins != nil, func() { c.AllowedOrigins = *p.AllowedOrigins })
	set("can_introspect", p.CanIntrospect != nil, func() { c.CanIntrospect = *p.CanIntrospect })
	set("token_format", p.TokenFormat != nil, func() { c.TokenFormat = *p.TokenFormat })
	if len(changed) == 0 {
		return nil, identity.Errorf(identity.EINVALID, "Nothing to change.")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := h.Clients.UpdateClient(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// rotateClientSecret replaces a confidential client's secret; the old one
// stops working at once.
func (h *Handler) rotateClientSecret(ctx context.Context, a *actor, id string) (c *identity.Client, secret string, err error) {
	defer func() {
		h.record(ctx, a, &identity.AuditEvent{Type: "admin.client.secret_rotated", ClientID: id}, err)
	}()
	c, err = h.Clients.ClientByID(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if c.Public {
		return nil, "", identity.Errorf(identity.EINVALID, "A public client has no secret.")
	}
	secret, c.SecretHash = identity.NewClientSecret()
	if err := h.Clients.UpdateClient(ctx, c); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// setClientDisabled disables (the store then revokes its tokens) or
// re-enables a client.
func (h *Handler) setClientDisabled(ctx context.Context, a *actor, id string, disabled bool) (c *identity.Client, err error) {
	typ := "admin.client.enabled"
	if disabled {
		typ = "admin.client.disabled"
	}
	defer func() { h.record(ctx, a, &identity.AuditEvent{Type: typ, ClientID: id}, err) }()
	c, err = h.Clients.ClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c.Disabled = disabled
	if err := h.Clients.UpdateClient(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// deleteClient deletes a client with its grants and tokens.
func (h *Handler) deleteClient(ctx context.Context, a *actor, id string) (err error) {
	defer func() { h.record(ctx, a, &identity.AuditEvent{Type: "admin.client.deleted", ClientID: id}, err) }()
	return h.Clients.DeleteClient(ctx, id)
}

// UserInput is a new account as an admin submits it.
type UserInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Admin    bool   `json:"admin,omitempty"`
}

// createUser creates an account with an Argon2id password hash.
func (h *Handler) createUser(ctx context.Context, a *actor, in UserInput) (_ *identity.User, err error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	u := &identity.User{Email: email, Admin: in.Admin}
	defer func() {
		h.record(ctx, a, &identity.AuditEvent{Type: "admin.user.created", UserID: u.ID,
			Details: map[string]string{"email": email, "admin": strconv.FormatBool(in.Admin)}}, err)
	}()
	if u.Email, err = identity.NormalizeEmail(in.Email); err != nil {
		return nil, err
	}
	if u.PasswordHash, err = password.ForAccount(in.Password, u.Email); err != nil {
		return nil, err
	}
	if err := h.Users.CreateUser(ctx, u); err != nil {
		if identity.ErrorCode(err) == identity.ECONFLICT {
			return nil, identity.Errorf(identity.ECONFLICT, "An account with this email exists.")
		}
		return nil, err
	}
	return u, nil
}

// setUserDisabled disables an account — its web sessions end at their next
// request, and its grants and API keys are revoked — or re-enables it.
func (h *Handler) setUserDisabled(ctx context.Context, a *actor, id string, disabled bool) (u *identity.User, revoked int, err error) {
	typ := "admin.user.enabled"
	if disabled {
		typ = "admin.user.disabled"
	}
	var keys int
	defer func() {
		h.record(ctx, a, &identity.AuditEvent{Type: typ, UserID: id, Details: map[string]string{
			"grants_revoked": strconv.Itoa(revoked), "api_keys_revoked": strconv.Itoa(keys),
		}}, err)
	}()
	if disabled && a.Kind == "user" && a.ID == id {
		return nil, 0, identity.Errorf(identity.EINVALID, "You cannot disable your own account.")
	}
	u, err = h.Users.UserByID(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	u.Disabled = disabled
	// Disable first, so that no new consent slips in between.
	if err := h.Users.UpdateUser(ctx, u); err != nil {
		return nil, 0, err
	}
	if !disabled {
		return u, 0, nil
	}
	if revoked, err = h.Grants.RevokeGrants(ctx, identity.GrantFilter{UserID: id}); err != nil {
		return nil, 0, err
	}
	// A disabled account must not keep a working server-to-server key.
	for {
		ks, _, err := h.APIKeys.ListAPIKeys(ctx, identity.APIKeyFilter{OwnerID: id, Page: identity.Page{Limit: 500}})
		if err != nil {
			return nil, revoked, err
		}
		for _, k := range ks {
			if err := h.APIKeys.RevokeAPIKey(ctx, k.ID); err != nil {
				return nil, revoked, err
			}
			keys++
		}
		if len(ks) < 500 {
			break
		}
	}
	return u, revoked, nil
}

// resetPassword sets a new password chosen by the admin. The password is
// never returned, logged or audited.
func (h *Handler) resetPassword(ctx context.Context, a *actor, id, pw string) (err error) {
	defer func() { h.record(ctx, a, &identity.AuditEvent{Type: "admin.user.password_reset", UserID: id}, err) }()
	u, err := h.Users.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if u.PasswordHash, err = password.ForAccount(pw, u.Email); err != nil {
		return err
	}
	if err := h.Users.UpdateUser(ctx, u); err != nil {
		return err
	}
	// A reset usually means the password leaked: whatever was granted with
	// it ends too (RFC 9700 §4.14.2).
	_, err = h.Grants.RevokeGrants(ctx, identity.GrantFilter{UserID: id})
	return err
}

// revokeGrant revokes one grant with its tokens.
func (h *Handler) revokeGrant(ctx context.Context, a *actor, id string) (g *identity.Grant, err error) {
	e := &identity.AuditEvent{Type: "admin.grant.revoked", Details: map[string]string{"grant_id": id}}
	defer func() { h.record(ctx, a, e, err) }()
	g, err = h.Grants.GrantByID(ctx, id)
	if err != nil {
		return nil, err
	}
	e.UserID, e.ClientID = g.UserID, g.ClientID
	if err := h.Grants.RevokeGrant(ctx, id); err != nil {
		return nil, err
	}
	return h.Grants.GrantByID(ctx, id)
}

// revokeGrants revokes every active grant of a user and/or a client.
func (h *Handler) revokeGrants(ctx context.Context, a *actor, userID, clientID string) (n int, err error) {
	defer func() {
		h.record(ctx, a, &identity.AuditEvent{Type: "admin.grants.revoked", UserID: userID, ClientID: clientID,
			Details: map[string]string{"count": strconv.Itoa(n)}}, err)
	}()
	if userID == "" && clientID == "" {
		return 0, identity.Errorf(identity.EINVALID, "A user or a client is required to revoke grants.")
	}
	return h.Grants.RevokeGrants(ctx, identity.GrantFilter{UserID: userID, ClientID: clientID})
}

// revokeAPIKey revokes an API key by id.
func (h *Handler) revokeAPIKey(ctx context.Context, a *actor, id string) (k *identity.APIKey, err error) {
	e := &identity.AuditEvent{Type: "admin.api_key.revoked", Details: map[string]string{"key_id": id}}
	defer func() { h.record(ctx, a, e, err) }()
	k, err = h.APIKeys.APIKeyByID(ctx, id)
	if err != nil {
		return nil, err
	}
	e.UserID, e.Details["key_id"], e.Details["prefix"] = k.OwnerID, k.ID, k.Prefix
	if err := h.APIKeys.RevokeAPIKey(ctx, k.ID); err != nil {
		return nil, err
	}
	return h.APIKeys.APIKeyByID(ctx, k.ID)
}
