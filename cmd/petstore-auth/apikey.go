package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

type apiKeyView struct {
	ID         string     `json:"id"`
	Prefix     string     `json:"prefix"`
	Name       string     `json:"name"`
	Owner      string     `json:"owner"`
	Env        string     `json:"env"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func viewKey(k *identity.APIKey, owner string) apiKeyView {
	return apiKeyView{k.ID, k.Prefix, k.Name, owner, k.Env, nonNil(k.Scopes), k.CreatedAt, k.LastUsedAt, k.ExpiresAt, k.RevokedAt}
}

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
			if len(scopes) == 0 {
				return identity.Errorf(identity.EINVALID, "--scope is required, e.g. --scope read:pets")
			}
			if env != identity.EnvLive && env != identity.EnvTest {
				return identity.Errorf(identity.EINVALID, "--env must be live or test")
			}
			exp, err := parseExpiry(expires, time.Now())
			if err != nil {
				return err
			}
			if len(name) > 100 {
				return identity.Errorf(identity.EINVALID, "--name is longer than 100 characters")
			}
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			addr, err := identity.NormalizeEmail(owner)
			if err != nil {
				return err
			}
			u, err := st.UserByEmail(cmd.Context(), addr)
			if err != nil {
				return err
			}
			key, err := apikey.Generate(env)
			if err != nil {
				return err
			}
			k := &identity.APIKey{OwnerID: u.ID, Name: name, Env: env, Prefix: apikey.DisplayPrefix(key), Hash: apikey.Hash(key), Scopes: scopes, ExpiresAt: exp}
			if err := st.CreateAPIKey(cmd.Context(), k); err != nil {
				return err
			}
			a.audit(cmd.Context(), st, "apikey.created", u.ID, "", map[string]string{"key_id": k.ID, "prefix": k.Prefix, "scopes": joinOrDash(k.Scopes)})
			out := struct {
				Key string `json:"key"`
				apiKeyView
			}{key, viewKey(k, u.Email)}
			return a.print(out, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "key:\t%s\nid:\t%s\nscopes:\t%s\n", key, k.ID, joinOrDash(k.Scopes))
				fmt.Fprintln(w, "\nStore the key now: it is shown only once and cannot be recovered.")
			})
		},
	}
	f := create.Flags()
	f.StringVar(&owner, "owner", "", "email of the user who owns the key (required)")
	f.StringVar(&scope, "scope", "", `space-separated scopes, e.g. "read:pets"`)
	f.StringVar(&env, "env", identity.EnvTest, "test or live")
	f.StringVar(&expires, "expires", "never", "lifetime, e.g. 90d, 720h or never")
	f.StringVar(&name, "name", "", "a name to recognise the key by")
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
				addr, err := identity.NormalizeEmail(listOwner)
				if err != nil {
					return err
				}
				u, err := st.UserByEmail(cmd.Context(), addr)
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
			views := []apiKeyView{}
			for _, k := range keys {
				if _, ok := emails[k.OwnerID]; !ok {
					if u, err := st.UserByID(cmd.Context(), k.OwnerID); err == nil {
						emails[k.OwnerID] = u.Email
					}
				}
				views = append(views, viewKey(k, emails[k.OwnerID]))
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
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			k, err := st.APIKeyByID(cmd.Context(), strings.TrimSuffix(args[0], "…"))
			if err != nil {
				return err
			}
			if err := st.RevokeAPIKey(cmd.Context(), k.ID); err != nil {
				return err
			}
			a.audit(cmd.Context(), st, "apikey.revoked", k.OwnerID, "", map[string]string{"key_id": k.ID, "prefix": k.Prefix})
			fmt.Fprintf(a.out, "revoked API key %s (%s…)\n", k.ID, k.Prefix)
			return nil
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
