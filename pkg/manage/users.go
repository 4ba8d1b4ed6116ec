package manage

import (
	"context"
	"strconv"
	"strings"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
)

// UserInput is a new account as an operator submits it.
type UserInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Admin    bool   `json:"admin,omitempty"`
	// Name is the display name (identity.NormalizeUserName).
	Name          string `json:"name,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
}

// UserPatch changes a user's profile; nil fields stay as they are.
type UserPatch struct {
	Name          *string `json:"name,omitempty"`
	EmailVerified *bool   `json:"email_verified,omitempty"`
}

// CreateUser creates an account with an Argon2id password hash. The
// password must pass the policy for this email (password.ForAccount: NIST
// SP 800-63B §5.1.1.2, not the email itself).
func (s *Service) CreateUser(ctx context.Context, a Actor, in UserInput) (_ *identity.User, err error) {
	u := &identity.User{Email: strings.ToLower(strings.TrimSpace(in.Email)), Admin: in.Admin, EmailVerified: in.EmailVerified}
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventUserCreated, UserID: u.ID,
			Details: map[string]string{"email": u.Email, "admin": strconv.FormatBool(in.Admin)}}, err)
	}()
	if u.Email, err = identity.NormalizeEmail(in.Email); err != nil {
		return nil, err
	}
	if u.Name, err = identity.NormalizeUserName(in.Name); err != nil {
		return nil, err
	}
	if u.PasswordHash, err = password.ForAccount(in.Password, u.Email); err != nil {
		return nil, err
	}
	if err := s.Users.CreateUser(ctx, u); err != nil {
		if identity.ErrorCode(err) == identity.ECONFLICT {
			return nil, identity.Errorf(identity.ECONFLICT, "An account with this email exists.")
		}
		return nil, err
	}
	return u, nil
}

// UpdateUser changes a user's display name and verified-email flag (the
// name, updated_at and email_verified claims). An invalid name is EINVALID;
// an empty patch too.
func (s *Service) UpdateUser(ctx context.Context, a Actor, id string, p UserPatch) (u *identity.User, err error) {
	var changed []string
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventUserUpdated, UserID: id,
			Details: map[string]string{"fields": strings.Join(changed, " ")}}, err)
	}()
	if p.Name == nil && p.EmailVerified == nil {
		return nil, identity.Errorf(identity.EINVALID, "Nothing to change.")
	}
	var name string
	if p.Name != nil {
		if name, err = identity.NormalizeUserName(*p.Name); err != nil {
			return nil, err
		}
	}
	if u, err = s.Users.UserByID(ctx, id); err != nil {
		return nil, err
	}
	if p.Name != nil {
		u.Name, changed = name, append(changed, "name")
	}
	if p.EmailVerified != nil {
		u.EmailVerified, changed = *p.EmailVerified, append(changed, "email_verified")
	}
	if err := s.Users.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// ResetPassword sets a new password chosen by an operator. The password is
// never returned, logged or audited. The user's sessions end (their
// version changes) and their grants are revoked.
func (s *Service) ResetPassword(ctx context.Context, a Actor, id, pw string) (err error) {
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventUserPasswordReset, UserID: id}, err)
	}()
	u, err := s.Users.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if u.PasswordHash, err = password.ForAccount(pw, u.Email); err != nil {
		return err
	}
	if err := s.Users.UpdateUser(ctx, u); err != nil {
		return err
	}
	// A reset usually means the password leaked: whatever was granted with
	// it ends too (RFC 9700 §4.14.2).
	_, err = s.Grants.RevokeGrants(ctx, identity.GrantFilter{UserID: id})
	return err
}

// SetUserDisabled disables an account — its web sessions end at their
// next request, its grants and API keys are revoked — or re-enables it.
// revoked counts the grants revoked. No one disables their own account.
func (s *Service) SetUserDisabled(ctx context.Context, a Actor, id string, disabled bool) (u *identity.User, revoked int, err error) {
	typ := identity.EventUserEnabled
	if disabled {
		typ = identity.EventUserDisabled
	}
	var keys int
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: typ, UserID: id, Details: map[string]string{
			"grants_revoked": strconv.Itoa(revoked), "api_keys_revoked": strconv.Itoa(keys),
		}}, err)
	}()
	if disabled && a.Kind == ActorUser && a.ID == id {
		return nil, 0, identity.Errorf(identity.EINVALID, "You cannot disable your own account.")
	}
	u, err = s.Users.UserByID(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	u.Disabled = disabled
	// Disable first, so that no new consent slips in between.
	if err := s.Users.UpdateUser(ctx, u); err != nil {
		return nil, 0, err
	}
	if !disabled {
		return u, 0, nil
	}
	if revoked, err = s.Grants.RevokeGrants(ctx, identity.GrantFilter{UserID: id}); err != nil {
		return nil, 0, err
	}
	// A disabled account must not keep a working server-to-server key.
	for {
		ks, _, err := s.APIKeys.ListAPIKeys(ctx, identity.APIKeyFilter{OwnerID: id, Page: identity.Page{Limit: 500}})
		if err != nil {
			return nil, revoked, err
		}
		for _, k := range ks {
			if err := s.APIKeys.RevokeAPIKey(ctx, k.ID); err != nil {
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
