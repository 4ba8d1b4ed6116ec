package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// parseExpiry reads "90d", "12h", "never".
func parseExpiry(s string, now time.Time) (*time.Time, error) {
	if s == "" || s == "never" {
		return nil, nil
	}
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && strings.HasSuffix(s, "d") && n > 0 && n <= 3650 {
		d = time.Duration(n) * 24 * time.Hour
	} else if pd, err := time.ParseDuration(s); err == nil && pd > 0 {
		d = pd
	} else {
		return nil, identity.Errorf(identity.EINVALID, "--expires %q: use e.g. 90d, 12h or never", s)
	}
	t := now.Add(d).UTC()
	return &t, nil
}

func (a *app) apikeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Manage API keys (sk_live_… / sk_test_…)"}
	var owner, scope, env, expires, name string
	create := &cobra.Command{
		Use: "create", Short: "Create an API key; prints it once", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			scopes, err := identity.ParseScopes(scope)
			if err != nil {
				return err
			}
			exp, err := parseExpiry(expires, time.Now())
			if err != nil {
				return err
			}
			var out cliAPIKey
			err = a.act(cmd.Context(), func(st *store.Store, svc *manage.Service) error {
				u, err := userByEmail(cmd.Context(), st, owner)
				if err != nil {
					return err
				}
				k, key, err := svc.CreateAPIKey(cmd.Context(), manage.CLI,
					manage.APIKeyInput{OwnerID: u.ID, Name: name, Env: env, Scopes: scopes, ExpiresAt: exp})
				if err != nil {
					return err
				}
				out = cliAPIKey{Key: key, APIKeyView: manage.ViewAPIKey(k), Owner: u.Email}
				return nil
			})
			if err != nil {
				return err
			}
			return a.print(out, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "key:\t%s\nid:\t%s\nscopes:\t%s\n", out.Key, out.ID, joinOrDash(out.Scopes))
				fmt.Fprintln(w, "\nStore the key now: it is shown only once and cannot be recovered.")
			})
		},
	}
	f := create.Flags()
	f.StringVar(&owner, "owner", "", "email of the user who owns the key (required)")
	f.StringVar(&scope, "scope", "", `space-separated scopes, e.g. "read:pets"`)
	f.StringVar(&env, "env", identity.EnvTest, "test or live")
	f.StringVar(&expires, "expires", "never", "lifetime, e.g. 90d, 720h or never")
	f.StringVar(&name, "name", "", "a name to recognise the key by (optional, at most 64 characters)")
	_ = create.MarkFlagRequired("owner")

	var listOwner string
	var all bool
	list := &cobra.Command{
		Use: "list", Short: "List API keys (never the keys themselves)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			filter := identity.APIKeyFilter{IncludeRevoked: all, Page: identity.Page{Limit: 500}}
			if listOwner != "" {
				u, err := userByEmail(cmd.Context(), st, listOwner)
				if err != nil {
					return err
				}
				filter.OwnerID = u.ID
			}
			keys, _, err := st.ListAPIKeys(cmd.Context(), filter)
			if err != nil {
				return err
			}
			emails := map[string]string{}
			views := []cliAPIKey{}
			for _, k := range keys {
				if _, ok := emails[k.OwnerID]; !ok {
					if u, err := st.UserByID(cmd.Context(), k.OwnerID); err == nil {
						emails[k.OwnerID] = u.Email
					}
				}
				views = append(views, cliAPIKey{APIKeyView: manage.ViewAPIKey(k), Owner: emails[k.OwnerID]})
			}
			return a.print(views, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tPREFIX\tNAME\tOWNER\tSCOPES\tCREATED\tLAST USED\tEXPIRES")
				for _, v := range views {
					fmt.Fprintf(w, "%s\t%s…\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Prefix, v.Name, v.Owner, joinOrDash(v.Scopes),
						v.CreatedAt.Format(time.DateOnly), fmtTime(v.LastUsedAt, "never"), fmtTime(v.ExpiresAt, "never"))
				}
			})
		},
	}
	list.Flags().StringVar(&listOwner, "owner", "", "only keys of this user (email)")
	list.Flags().BoolVar(&all, "all", false, "include revoked keys")

	revoke := &cobra.Command{
		Use: "revoke ID_OR_PREFIX", Short: "Revoke an API key", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var k *identity.APIKey
			err := a.act(cmd.Context(), func(_ *store.Store, svc *manage.Service) (err error) {
				k, err = svc.RevokeAPIKey(cmd.Context(), manage.CLI, strings.TrimSuffix(args[0], "…"), "")
				return err
			})
			if err != nil {
				return err
			}
			return a.done(map[string]any{"revoked": true, "id": k.ID, "prefix": k.Prefix}, "revoked API key %s (%s…)\n", k.ID, k.Prefix)
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func fmtTime(t *time.Time, zero string) string {
	if t == nil {
		return zero
	}
	return t.Format("2006-01-02 15:04")
}

// userByEmail finds the user an --owner or --user flag names.
func userByEmail(ctx context.Context, st *store.Store, email string) (*identity.User, error) {
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	return st.UserByEmail(ctx, addr)
}
