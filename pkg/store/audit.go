package store

import (
	"context"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

var _ identity.AuditLog = (*Store)(nil)

// RecordAudit appends an event, setting Time (when zero) and ID.
func (s *Store) RecordAudit(ctx context.Context, e *identity.AuditEvent) error {
	if e.Type == "" {
		return identity.Errorf(identity.EINVALID, "Audit event type is required.")
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	row := auditRow{
		Time: dbTime(e.Time), Type: e.Type, Outcome: e.Outcome, ActorID: e.ActorID, UserID: e.UserID,
		ClientID: e.ClientID, IP: e.IP, UserAgent: e.UserAgent, Details: e.Details,
	}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return identityErr(err, "Audit event")
	}
	e.ID = row.ID
	return nil
}

// ListAudit returns a page of events, newest first, and the total matching.
// Since is inclusive, Until exclusive.
func (s *Store) ListAudit(ctx context.Context, f identity.AuditFilter) ([]*identity.AuditEvent, int, error) {
	q := s.conn(ctx).Model(&auditRow{})
	for col, v := range map[string]string{"type": f.Type, "user_id": f.UserID, "client_id": f.ClientID, "outcome": f.Outcome} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	if !f.Since.IsZero() {
		q = q.Where("time >= ?", dbTime(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("time < ?", dbTime(f.Until))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, identityErr(err, "Audit events")
	}
	offset, limit := pageBounds(f.Offset, f.Limit)
	var rows []auditRow
	if err := q.Order("time DESC, id DESC").Offset(offset).Limit(limit).Find(&rows).Error; err != nil {
		return nil, 0, identityErr(err, "Audit events")
	}
	out := make([]*identity.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = &identity.AuditEvent{
			ID: r.ID, Time: r.Time.UTC(), Type: r.Type, Outcome: r.Outcome, ActorID: r.ActorID, UserID: r.UserID,
			ClientID: r.ClientID, IP: r.IP, UserAgent: r.UserAgent, Details: map[string]string(r.Details),
		}
	}
	return out, int(total), nil
}

// RecordAudits appends several events in one statement.
func (s *Store) RecordAudits(ctx context.Context, events []*identity.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([]auditRow, len(events))
	for i, e := range events {
		if e.Time.IsZero() {
			e.Time = s.now()
		}
		rows[i] = auditRow{Time: dbTime(e.Time), Type: e.Type, Outcome: e.Outcome, ActorID: e.ActorID, UserID: e.UserID,
			ClientID: e.ClientID, IP: e.IP, UserAgent: e.UserAgent, Details: e.Details}
	}
	if err := s.conn(ctx).CreateInBatches(rows, 200).Error; err != nil {
		return identityErr(err, "Audit events")
	}
	for i := range events {
		events[i].ID = rows[i].ID
	}
	return nil
}
