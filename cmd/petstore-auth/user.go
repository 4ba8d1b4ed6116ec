package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
)

type userView struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Admin     bool      `json:"admin"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

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
			addr, err := identity.NormalizeEmail(email)
			if err != nil {
				return err
			}
			pw, err := a.readSecretLine()
			if err != nil {
				return err
			}
			hash, err := password.ForAccount(pw, addr)
			if err != nil {
				return err
			}
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			u := &identity.User{Email: addr, PasswordHash: hash, Admin: admin}
			if err := st.CreateUser(cmd.Context(), u); err != nil {
				return err
			}
			a.audit(cmd.Context(), st, "user.created", u.ID, "", map[string]string{"admin": fmt.Sprint(u.Admin)})
			v := userView{u.ID, u.Email, u.Admin, u.Disabled, u.CreatedAt}
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
			views := []userView{}
			for _, u := range users {
				views = append(views, userView{u.ID, u.Email, u.Admin, u.Disabled, u.CreatedAt})
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
