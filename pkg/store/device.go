package store

import (
	"context"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// deviceRow is a device authorization request (RFC 8628); both codes are
// stored hashed.
type deviceRow struct {
	DeviceCodeHash  string     `gorm:"column:device_code_hash;primaryKey"`
	UserCodeHash    string     `gorm:"column:user_code_hash"`
	ClientID        string     `gorm:"column:client_id"`
	Scopes          stringList `gorm:"column:scopes"`
	Status          string     `gorm:"column:status"`
	UserID          string     `gorm:"column:user_id"`
	GrantID         string     `gorm:"column:grant_id"`
	GrantedScopes   stringList `gorm:"column:granted_scopes"`
	DeviceUserAgent string     `gorm:"column:device_user_agent"`
	DeviceAddress   string     `gorm:"column:device_address"`
	IntervalSeconds int        `gorm:"column:interval_seconds"`
	LastPolledAt    *time.Time `gorm:"column:last_polled_at"`
	CreatedAt       time.Time  `gorm:"column:created_at"`
	ExpiresAt       time.Time  `gorm:"column:expires_at"`
}

func (deviceRow) TableName() string { return "device_codes" }

func (r *deviceRow) toIdentity() *identity.DeviceCode {
	return &identity.DeviceCode{DeviceCodeHash: r.DeviceCodeHash, UserCodeHash: r.UserCodeHash, ClientID: r.ClientID,
		Scopes: []string(r.Scopes), Status: r.Status, UserID: r.UserID, GrantID: r.GrantID, GrantedScopes: []string(r.GrantedScopes),
		DeviceUserAgent: r.DeviceUserAgent, DeviceAddress: r.DeviceAddress, Interval: time.Duration(r.IntervalSeconds) * time.Second,
		LastPolledAt: r.LastPolledAt, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
}

// CreateDeviceCode stores a new pending device authorization request. A
// user code hash already in use is ECONFLICT (the caller draws another).
func (s *Store) CreateDeviceCode(ctx context.Context, d *identity.DeviceCode) error {
	d.CreatedAt, d.Status = s.now(), identity.DevicePending
	row := deviceRow{DeviceCodeHash: d.DeviceCodeHash, UserCodeHash: d.UserCodeHash, ClientID: d.ClientID, Scopes: d.Scopes,
		Status: d.Status, DeviceUserAgent: d.DeviceUserAgent, DeviceAddress: d.DeviceAddress,
		IntervalSeconds: int(d.Interval / time.Second), CreatedAt: d.CreatedAt, ExpiresAt: dbTime(d.ExpiresAt)}
	return identityErr(s.conn(ctx).Create(&row).Error, "Device code")
}

// DeviceCodeByUserCode returns the request of a user code hash, expired or
// not, or ENOTFOUND.
func (s *Store) DeviceCodeByUserCode(ctx context.Context, userCodeHash string) (*identity.DeviceCode, error) {
	var row deviceRow
	if err := s.conn(ctx).Where("user_code_hash = ?", userCodeHash).Take(&row).Error; err != nil {
		return nil, identityErr(err, "Device code")
	}
	return row.toIdentity(), nil
}

// DeviceCodeByHash returns the request of a device code hash, or ENOTFOUND.
func (s *Store) DeviceCodeByHash(ctx context.Context, deviceCodeHash string) (*identity.DeviceCode, error) {
	var row deviceRow
	if err := s.conn(ctx).Where("device_code_hash = ?", deviceCodeHash).Take(&row).Error; err != nil {
		return nil, identityErr(err, "Device code")
	}
	return row.toIdentity(), nil
}

// DecideDeviceCode records the user's decision on a pending, unexpired
// request: approved with the grant and scopes, or denied. A request that
// is no longer pending (decided already, expired) is ECONFLICT and is not
// changed.
func (s *Store) DecideDeviceCode(ctx context.Context, userCodeHash, userID, grantID string, granted []string, approve bool) error {
	status := identity.DeviceDenied
	if approve {
		status = identity.DeviceApproved
	}
	res := s.conn(ctx).Model(&deviceRow{}).
		Where("user_code_hash = ? AND status = ? AND expires_at > ?", userCodeHash, identity.DevicePending, s.now()).
		Updates(map[string]any{"status": status, "user_id": userID, "grant_id": grantID, "granted_scopes": stringList(granted)})
	if res.Error != nil {
		return identityErr(res.Error, "Device code")
	}
	if res.RowsAffected == 0 {
		return identity.Errorf(identity.ECONFLICT, "This code has been used, has expired or was decided already.")
	}
	return nil
}

// PollDeviceCode records a poll of the token endpoint at now (RFC 8628
// §3.5). A poll sooner than the request's interval after the previous one
// raises the interval by 5 s, persisted, and reports slowDown. Two polls
// racing count as one too fast. ENOTFOUND for an unknown code.
func (s *Store) PollDeviceCode(ctx context.Context, deviceCodeHash string, now time.Time) (d *identity.DeviceCode, slowDown bool, err error) {
	d, err = s.DeviceCodeByHash(ctx, deviceCodeHash)
	if err != nil {
		return nil, false, err
	}
	now = dbTime(now)
	q := s.conn(ctx).Model(&deviceRow{}).Where("device_code_hash = ?", deviceCodeHash)
	if d.LastPolledAt == nil {
		q = q.Where("last_polled_at IS NULL")
	} else {
		q = q.Where("last_polled_at = ?", dbTime(*d.LastPolledAt))
	}
	updates := map[string]any{"last_polled_at": now}
	tooSoon := d.LastPolledAt != nil && now.Sub(*d.LastPolledAt) < d.Interval
	if tooSoon {
		d.Interval += 5 * time.Second
		updates["interval_seconds"] = int(d.Interval / time.Second)
	}
	res := q.Updates(updates)
	if res.Error != nil {
		return nil, false, identityErr(res.Error, "Device code")
	}
	d.LastPolledAt = &now
	return d, tooSoon || res.RowsAffected == 0, nil
}

// RedeemDeviceCode marks an approved request redeemed: the device code
// gives tokens once. A request that is not approved (redeemed already,
// by a racing poll too) is ECONFLICT.
func (s *Store) RedeemDeviceCode(ctx context.Context, deviceCodeHash string) error {
	res := s.conn(ctx).Model(&deviceRow{}).
		Where("device_code_hash = ? AND status = ?", deviceCodeHash, identity.DeviceApproved).
		Update("status", identity.DeviceRedeemed)
	if res.Error != nil {
		return identityErr(res.Error, "Device code")
	}
	if res.RowsAffected == 0 {
		return identity.Errorf(identity.ECONFLICT, "The device code has been used.")
	}
	return nil
}
