package main

import (
	"context"
	"log/slog"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// service is the operator service on the CLI's store: every command that
// changes something goes through it (actor manage.CLI), as the admin API,
// the console and the account page do. An audit write that fails is
// reported on stderr; the command has succeeded by then.
func (a *app) service(st *store.Store) *manage.Service {
	return &manage.Service{Users: st, Clients: st, Grants: st, APIKeys: st, Registrations: st, Audit: st,
		Logger: slog.New(slog.NewTextHandler(a.err, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

// act opens the store and runs f with the service on it: the frame of
// every command that changes something.
func (a *app) act(ctx context.Context, f func(st *store.Store, svc *manage.Service) error) error {
	st, _, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return f(st, a.service(st))
}

// readPassword reads the one-line password of --password-stdin.
func (a *app) readPassword(stdin bool) (string, error) {
	if !stdin {
		return "", identity.Errorf(identity.EINVALID, "--password-stdin is required: passwords are never taken from flags (shell history)")
	}
	return a.readSecretLine()
}

// The CLI prints pkg/manage's views, the admin API's shapes, plus the keys
// it printed before the views were unified, kept as aliases so that
// scripts reading them still work (README, "CLI reference").

// cliClient is a client: manage.ClientView plus client_id (alias of id),
// introspect (alias of can_introspect) and owner, the email of the user
// who registered it on the developer page ("" for an operator's client).
type cliClient struct {
	manage.ClientView
	ClientID     string `json:"client_id"`
	Introspect   bool   `json:"introspect"`
	Owner        string `json:"owner"`
	ClientSecret string `json:"client_secret,omitempty"`
}

func viewClient(v manage.ClientView, secret string) cliClient {
	return cliClient{ClientView: v, ClientID: v.ID, Introspect: v.CanIntrospect, ClientSecret: secret}
}

// cliGrant is manage.GrantView plus user, the user's email.
type cliGrant struct {
	manage.GrantView
	User string `json:"user"`
}

// cliAPIKey is manage.APIKeyView plus owner, the owner's email, and the
// key itself in the answer to create only.
type cliAPIKey struct {
	Key string `json:"key,omitempty"`
	manage.APIKeyView
	Owner string `json:"owner"`
}
