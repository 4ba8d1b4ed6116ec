package manage

import (
	"context"
	"slices"
	"strconv"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

var errNoGrant = identity.Errorf(identity.ENOTFOUND, "No such grant.")

// RevokeGrant revokes one grant with every token issued under it (RFC 7009
// §2.1: revoking a grant invalidates its tokens). With owner set (the
// account page), only that user's active grants can be revoked; others
// are "not found", like grants that do not exist.
func (s *Service) RevokeGrant(ctx context.Context, a Actor, id, owner string) (g *identity.Grant, err error) {
	e := &identity.AuditEvent{Type: identity.EventGrantRevoked, UserID: owner, Details: map[string]string{"grant_id": id}}
	defer func() { s.Record(ctx, a, e, err) }()
	g, err = s.Grants.GrantByID(ctx, id)
	if identity.IsNotFound(err) || err == nil && owner != "" && (g.UserID != owner || g.RevokedAt != nil) {
		return nil, errNoGrant
	}
	if err != nil {
		return nil, err
	}
	e.UserID, e.ClientID = g.UserID, g.ClientID
	if err := s.Grants.RevokeGrant(ctx, id); err != nil {
		return nil, err
	}
	s.logoutClients(ctx, g.UserID, []string{g.ClientID})
	return s.Grants.GrantByID(ctx, id)
}

// RevokeGrants revokes every active grant of a user, of a client, or of a
// user for one client, and returns how many it revoked.
func (s *Service) RevokeGrants(ctx context.Context, a Actor, userID, clientID string) (n int, err error) {
	defer func() {
		s.Record(ctx, a, &identity.AuditEvent{Type: identity.EventGrantsRevoked, UserID: userID, ClientID: clientID,
			Details: map[string]string{"count": strconv.Itoa(n)}}, err)
	}()
	if userID == "" && clientID == "" {
		return 0, identity.Errorf(identity.EINVALID, "A user or a client is required to revoke grants.")
	}
	// An unknown user or client is "not found" on every channel, not a
	// silent zero that hides a typo.
	if userID != "" {
		if _, err := s.Users.UserByID(ctx, userID); err != nil {
			return 0, err
		}
	}
	if clientID != "" {
		if _, err := s.Clients.ClientByID(ctx, clientID); err != nil {
			return 0, err
		}
	}
	f := identity.GrantFilter{UserID: userID, ClientID: clientID}
	pairs, err := s.activeGrantPairs(ctx, f)
	if err != nil {
		return 0, err
	}
	if n, err = s.Grants.RevokeGrants(ctx, f); err != nil {
		return n, err
	}
	for user, clients := range pairs {
		s.logoutClients(ctx, user, clients)
	}
	return n, nil
}

// activeGrantPairs returns the clients of each user with an active grant
// matching f: those to send back-channel logout tokens to after revoking.
func (s *Service) activeGrantPairs(ctx context.Context, f identity.GrantFilter) (map[string][]string, error) {
	out := map[string][]string{}
	if s.Logouts == nil {
		return out, nil
	}
	f.Limit = 500
	for {
		gs, total, err := s.Grants.ListGrants(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			if !slices.Contains(out[g.UserID], g.ClientID) {
				out[g.UserID] = append(out[g.UserID], g.ClientID)
			}
		}
		f.Offset += len(gs)
		if len(gs) == 0 || f.Offset >= total {
			return out, nil
		}
	}
}

// logoutClients queues back-channel logout tokens for a user's clients.
// The revocation has happened by then: a queue failure is logged.
func (s *Service) logoutClients(ctx context.Context, userID string, clientIDs []string) {
	if s.Logouts == nil {
		return
	}
	if _, err := s.Logouts.EnqueueGrantLogouts(ctx, userID, clientIDs); err != nil {
		s.logger().Error("queue back-channel logout", "user_id", userID, "err", err)
	}
}
