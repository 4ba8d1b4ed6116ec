package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// housekeepingLock is the advisory-lock id that makes one replica at a time
// delete expired rows.
const housekeepingLock = 0x7065747374 // "petst"

// housekeeping deletes expired codes, tokens, revocation-list entries and old
// audit events in small batches every interval, and wipes sealed refresh
// successors once their grace window has passed, until ctx ends.
func (s *Server) housekeeping(ctx context.Context, interval time.Duration, now func() time.Time) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ran, err := s.Store.Exclusive(ctx, housekeepingLock, func(ctx context.Context) error {
			removed, err := s.Store.DeleteExpired(ctx, now(), 500)
			for table, n := range removed {
				s.metrics.housekeeping.WithLabelValues(table).Add(float64(n))
			}
			if err != nil {
				return err
			}
			grace := time.Duration(s.Config.Tokens.RefreshGraceWindow)
			n, err := s.Store.ClearRotations(ctx, now().Add(-grace-time.Minute))
			s.metrics.housekeeping.WithLabelValues("refresh_successors").Add(float64(n))
			if err != nil {
				return err
			}
			// Self-registered clients that got no token for
			// registration_unused_ttl (RFC 7591 abuse: registrations
			// nobody uses must not pile up).
			unused, err := s.Store.DeleteUnusedRegisteredClients(ctx, now().Add(-time.Duration(s.Config.RegistrationUnusedTTL)), 100)
			s.metrics.housekeeping.WithLabelValues("unused_registered_clients").Add(float64(unused))
			if unused > 0 {
				s.Provider.ClientsChanged()
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			s.Logger.Warn("housekeeping failed", "err", err)
		} else if ran {
			s.Logger.Debug("housekeeping done")
		}
	}
}

func housekeepingCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "petstore_auth_housekeeping_rows_deleted_total", Help: "Expired rows removed by housekeeping, by table.",
	}, []string{"table"})
}
