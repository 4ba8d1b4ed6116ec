package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
)

func (a *app) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	var email string
	var admin, stdin bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a user; the password is read from stdin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !stdin {
				return identity.Errorf(identity.EINVALID, "--password-stdin is required: passwords are never taken from flags (shell history)")
			}
			pw, err := a.readSecretLine()
			if err != nil {
				return err
			}
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			u, err := a.service(st).CreateUser(cmd.Context(), manage.CLI, manage.UserInput{Email: email, Password: pw, Admin: admin})
			if err != nil {
				return err
			}
			v := manage.ViewUser(u)
			return a.print(v, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "created user %s (%s)", v.Email, v.ID)
				if v.Admin {
					fmt.Fprint(w, " with the admin role")
				}
				fmt.Fprintln(w)
			})
		},
	}
	create.Flags().StringVar(&email, "email", "", "email address (required)")
	create.Flags().BoolVar(&admin, "admin", false, "give the user the admin role")
	create.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from stdin")
	_ = create.MarkFlagRequired("email")

	var query string
	list := &cobra.Command{
		Use: "list", Short: "List users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			users, _, err := st.ListUsers(cmd.Context(), identity.UserFilter{Query: query, Page: identity.Page{Limit: 500}})
			if err != nil {
				return err
			}
			views := []manage.UserView{}
			for _, u := range users {
				views = append(views, manage.ViewUser(u))
			}
			return a.print(views, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tEMAIL\tADMIN\tDISABLED\tCREATED")
				for _, u := range views {
					fmt.Fprintf(w, "%s\t%s\t%v\t%v\t%s\n", u.ID, u.Email, u.Admin, u.Disabled, u.CreatedAt.Format(time.DateOnly))
				}
			})
		},
	}
	list.Flags().StringVar(&query, "search", "", "only emails containing this text")
	cmd.AddCommand(create, list)
	return cmd
}
