package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

func (a *app) grantCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "grant", Short: "List and revoke the grants users gave to apps"}
	var user, client string
	var all bool
	filterFor := func(cmd *cobra.Command, st *store.Store) (identity.GrantFilter, error) {
		f := identity.GrantFilter{ClientID: client, IncludeRevoked: all, Page: identity.Page{Limit: 500}}
		if user != "" {
			u, err := userByEmail(cmd.Context(), st, user)
			if err != nil {
				return f, err
			}
			f.UserID = u.ID
		}
		return f, nil
	}
	list := &cobra.Command{
		Use: "list", Short: "List grants", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			f, err := filterFor(cmd, st)
			if err != nil {
				return err
			}
			grants, _, err := st.ListGrants(cmd.Context(), f)
			if err != nil {
				return err
			}
			views := []cliGrant{}
			for _, g := range grants {
				email := g.UserID
				if u, err := st.UserByID(cmd.Context(), g.UserID); err == nil {
					email = u.Email
				}
				views = append(views, cliGrant{manage.ViewGrant(g), email})
			}
			return a.print(views, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "GRANT ID\tUSER\tCLIENT\tSCOPES\tGRANTED\tLAST USED\tSTATE")
				for _, g := range views {
					state := "active"
					if g.RevokedAt != nil {
						state = "revoked"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.User, g.ClientID, joinOrDash(g.Scopes),
						g.CreatedAt.Format("2006-01-02 15:04"), g.LastUsedAt.Format("2006-01-02 15:04"), state)
				}
			})
		},
	}
	list.Flags().StringVar(&user, "user", "", "only grants of this user (email)")
	list.Flags().StringVar(&client, "client", "", "only grants to this client id")
	list.Flags().BoolVar(&all, "all", false, "include revoked grants")

	revoke := &cobra.Command{
		Use:   "revoke [GRANT_ID] [--user EMAIL | --client ID]",
		Short: "Revoke a grant, or all grants of a user or client, with every token issued under them",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (user != "" || client != "") {
				return identity.Errorf(identity.EINVALID, "give either a GRANT_ID or --user/--client")
			}
			return a.act(cmd.Context(), func(st *store.Store, svc *manage.Service) error {
				if len(args) == 1 {
					if _, err := svc.RevokeGrant(cmd.Context(), manage.CLI, args[0], ""); err != nil {
						return err
					}
					return a.done(map[string]any{"revoked": 1, "grant_id": args[0]}, "revoked grant %s and every token issued under it\n", args[0])
				}
				f, err := filterFor(cmd, st)
				if err != nil {
					return err
				}
				n, err := svc.RevokeGrants(cmd.Context(), manage.CLI, f.UserID, f.ClientID)
				if err != nil {
					return err
				}
				return a.done(map[string]any{"revoked": n}, "revoked %d grant(s) and every token issued under them\n", n)
			})
		},
	}
	revoke.Flags().StringVar(&user, "user", "", "revoke all grants of this user (email)")
	revoke.Flags().StringVar(&client, "client", "", "revoke all grants to this client id")
	cmd.AddCommand(list, revoke)
	return cmd
}
