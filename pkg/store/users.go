package store

import (
	"context"
	"strings"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

var _ identity.UserStore = (*Store)(nil)

func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser stores u, filling in ID (usr_…) when empty and the timestamps.
// The email is lower-cased; a taken one is ECONFLICT.
func (s *Store) CreateUser(ctx context.Context, u *identity.User) error {
	u.Email = normalizeEmail(u.Email)
	if u.Email == "" {
		return identity.Errorf(identity.EINVALID, "Email is required.")
	}
	if u.ID == "" {
		u.ID = newID(identity.UserIDPrefix)
	}
	now := s.now()
	u.CreatedAt, u.UpdatedAt = now, now
	row := userRow{
		ID: u.ID, Email: u.Email, PasswordHash: u.PasswordHash,
		Admin: u.Admin, Disabled: u.Disabled, Name: u.Name, EmailVerified: u.EmailVerified, CreatedAt: now, UpdatedAt: now,
	}
	return identityErr(s.conn(ctx).Create(&row).Error, "User")
}

// UserByID returns a user or ENOTFOUND.
func (s *Store) UserByID(ctx context.Context, id string) (*identity.User, error) {
	if !storableText(id) {
		return nil, identity.Errorf(identity.ENOTFOUND, "User not found.")
	}
	var r userRow
	// Every page of a signed-in browser reads it: hand-written SQL (hotsql.go).
	err := s.queryRowHot(ctx, selectUserByID, []any{id},
		&r.ID, &r.Email, &r.PasswordHash, &r.Admin, &r.Disabled, &r.Name, &r.EmailVerified, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return nil, identityErr(err, "User")
	}
	return r.toIdentity(), nil
}

var selectUserByID = hot("users", "SELECT id, email, password_hash, admin, disabled, name, email_verified, created_at, updated_at FROM users WHERE id = ?")

// UserByEmail returns a user by email, case-insensitively, or ENOTFOUND.
func (s *Store) UserByEmail(ctx context.Context, email string) (*identity.User, error) {
	if !storableText(email) {
		return nil, identity.Errorf(identity.ENOTFOUND, "User not found.")
	}
	var row userRow
	if err := s.conn(ctx).Where("email = ?", normalizeEmail(email)).Take(&row).Error; err != nil {
		return nil, identityErr(err, "User")
	}
	return row.toIdentity(), nil
}

// ListUsers returns a page of users, newest first, and the total matching.
func (s *Store) ListUsers(ctx context.Context, f identity.UserFilter) ([]*identity.User, int, error) {
	q := s.conn(ctx).Model(&userRow{})
	if f.Query != "" {
		q = q.Where("email LIKE ? ESCAPE '\\'", "%"+escapeLike(normalizeEmail(f.Query))+"%")
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, identityErr(err, "Users")
	}
	offset, limit := pageBounds(f.Offset, f.Limit)
	var rows []userRow
	if err := q.Order("created_at DESC, id DESC").Offset(offset).Limit(limit).Find(&rows).Error; err != nil {
		return nil, 0, identityErr(err, "Users")
	}
	out := make([]*identity.User, len(rows))
	for i := range rows {
		out[i] = rows[i].toIdentity()
	}
	return out, int(total), nil
}

// UpdateUser saves email, password hash, name and flags of an existing user.
func (s *Store) UpdateUser(ctx context.Context, u *identity.User) error {
	u.Email = normalizeEmail(u.Email)
	if u.Email == "" {
		return identity.Errorf(identity.EINVALID, "Email is required.")
	}
	u.UpdatedAt = s.now()
	res := s.conn(ctx).Model(&userRow{}).Where("id = ?", u.ID).Updates(map[string]any{
		"email":          u.Email,
		"password_hash":  u.PasswordHash,
		"admin":          u.Admin,
		"disabled":       u.Disabled,
		"name":           u.Name,
		"email_verified": u.EmailVerified,
		"updated_at":     u.UpdatedAt,
	})
	if res.Error != nil {
		return identityErr(res.Error, "User")
	}
	if res.RowsAffected == 0 {
		return identity.Errorf(identity.ENOTFOUND, "User not found.")
	}
	return nil
}

// escapeLike escapes LIKE wildcards so a search is a plain substring match.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (r *userRow) toIdentity() *identity.User {
	return &identity.User{
		ID: r.ID, Email: r.Email, PasswordHash: r.PasswordHash,
		Admin: r.Admin, Disabled: r.Disabled, Name: r.Name, EmailVerified: r.EmailVerified,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}
