package server

import (
	"context"
	"errors"
	"io/fs"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/admin"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
	"github.com/petstore-auth/petstore-auth/pkg/store"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
	"github.com/petstore-auth/petstore-auth/pkg/web"
)

// mountPages mounts the HTML pages (login, consent, account, admin) and the
// admin JSON API.
func (s *Server) mountPages(r *mux.Router, files fs.FS, secret []byte, now func() time.Time) error {
	if files == nil {
		return errors.New("server: no templates: pass Options.Web (the embedded files) or set web_dir")
	}
	kit, err := ui.New(ui.Config{
		FS:     files,
		Secret: provider.DeriveKey(secret, "session-cookies"),
		PreviousSecrets: func() (out [][]byte) {
			for _, p := range s.Config.PreviousSecretBytes() {
				out = append(out, provider.DeriveKey(p, "session-cookies"))
			}
			return out
		}(),
		Insecure: s.Config.Insecure(),
		Required: append(append([]string{}, web.Templates...), admin.Templates...),
		Sessions: s.Store,
		Now:      now,
		Logger:   s.Logger,
	})
	if err != nil {
		return err
	}
	// Pages are parsed on first use; files edited on disk (web_dir) are
	// parsed now, so that a broken edit stops the start, not one page.
	if s.Config.WebDir != "" {
		if err := kit.ParseAll(); err != nil {
			return err
		}
	}
	st := s.Store
	// Client changes through the console, its API or the web pages drop the
	// provider's cached CORS origins at once.
	clients := clientsNotifying{ClientStore: st, changed: s.Provider.ClientsChanged}
	(&admin.Handler{
		Auth: s.Provider, Users: st, Clients: clients, Grants: st, APIKeys: st, Audit: s.Audit, UI: kit, Now: now, Logger: s.Logger,
		Logouts: logoutQueue{st, s.backchannel},
		Stats: admin.StatsFunc(func(ctx context.Context, since time.Time) (admin.Counts, error) {
			c, err := st.Stats(ctx, since)
			return admin.Counts{Clients: c.Clients, Users: c.Users, ActiveGrants: c.ActiveGrants,
				TokensIssued: c.TokensIssuedSince, FailedLogins: c.FailedLoginsSince}, err
		}),
	}).Mount(r)
	(&web.Handler{
		OAuth2: s.Provider.OAuth2, Issuer: s.Config.Issuer, NewSession: provider.NewSessionFunc, Resources: s.Provider.ResolveResources,
		ConsumePAR: s.Provider.ConsumePAR, RequirePAR: s.Provider.RequirePAR(),
		Users: st, Clients: clients, Grants: st, APIKeys: st, Audit: s.Audit, UI: kit,
		AuditKey: provider.DeriveKey(secret, "audit-email"), Sessions: st,
		Throttle: s.Throttle, Now: now, Logger: s.Logger, Dev: s.Config.Dev, Devices: s.Provider,
		IDTokenHint: s.Provider.IDTokenHint, SessionClients: st, SessionsEnded: s.sessionsEnded,
		GrantLogouts: logoutQueue{st, s.backchannel},
	}).Mount(r)
	return nil
}

// clientsNotifying calls changed after every successful client write.
type clientsNotifying struct {
	identity.ClientStore
	changed func()
}

func (c clientsNotifying) CreateClient(ctx context.Context, cl *identity.Client) error {
	return c.notify(c.ClientStore.CreateClient(ctx, cl))
}

func (c clientsNotifying) UpdateClient(ctx context.Context, cl *identity.Client) error {
	return c.notify(c.ClientStore.UpdateClient(ctx, cl))
}

func (c clientsNotifying) DeleteClient(ctx context.Context, id string) error {
	return c.notify(c.ClientStore.DeleteClient(ctx, id))
}

func (c clientsNotifying) notify(err error) error {
	if err == nil {
		c.changed()
	}
	return err
}

// logoutQueue queues back-channel logout tokens and wakes the worker, so
// that they leave at once rather than at its next round.
type logoutQueue struct {
	st     *store.Store
	worker *provider.BackchannelWorker
}

func (q logoutQueue) EnqueueGrantLogouts(ctx context.Context, userID string, clientIDs []string) (int, error) {
	n, err := q.st.EnqueueGrantLogouts(ctx, userID, clientIDs)
	if n > 0 {
		q.worker.Wake()
	}
	return n, err
}

// sessionsEnded is web.Handler.SessionsEnded: the clients that got ID
// tokens in the ended sessions get logout tokens (Back-Channel Logout 1.0).
// The session has ended by then, so a failure to queue is logged.
func (s *Server) sessionsEnded(ctx context.Context, userID string, sids []string) {
	n, err := s.Store.EnqueueSessionLogouts(ctx, userID, sids)
	if err != nil {
		s.Logger.ErrorContext(ctx, "queue back-channel logout", "user_id", userID, "err", err)
	}
	if n > 0 {
		s.backchannel.Wake()
	}
}
