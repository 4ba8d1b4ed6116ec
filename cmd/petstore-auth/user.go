package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

func (a *app) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	var email, name string
	var admin, stdin, verified bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a user; the password is read from stdin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := a.readPassword(stdin)
			if err != nil {
				return err
			}
			var v manage.UserView
			err = a.act(cmd.Context(), func(_ *store.Store, svc *manage.Service) error {
				u, err := svc.CreateUser(cmd.Context(), manage.CLI, manage.UserInput{Email: email, Password: pw, Admin: admin, Name: name, EmailVerified: verified})
				if err != nil {
					return err
				}
				v = manage.ViewUser(u)
				return nil
			})
			if err != nil {
				return err
			}
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
	create.Flags().StringVar(&name, "name", "", "display name (OpenID Connect name claim; at most 100 characters)")
	create.Flags().BoolVar(&verified, "email-verified", false, "the email address is known to be the user's (email_verified claim)")
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
	cmd.AddCommand(create, list, a.userUpdateCmd(), a.userSetPasswordCmd(), a.userSetDisabledCmd(true), a.userSetDisabledCmd(false))
	return cmd
}

func (a *app) userSetPasswordCmd() *cobra.Command {
	var stdin bool
	cmd := &cobra.Command{
		Use:   "set-password EMAIL",
		Short: "Set a user's password, read from stdin; their sessions end and their grants are revoked",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := a.readPassword(stdin)
			if err != nil {
				return err
			}
			return a.act(cmd.Context(), func(st *store.Store, svc *manage.Service) error {
				u, err := userByEmail(cmd.Context(), st, args[0])
				if err != nil {
					return err
				}
				if err := svc.ResetPassword(cmd.Context(), manage.CLI, u.ID, pw); err != nil {
					return err
				}
				return a.done(map[string]any{"id": u.ID, "email": u.Email, "password_set": true},
					"set the password of %s; their sessions and grants have ended\n", u.Email)
			})
		},
	}
	cmd.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

func (a *app) userSetDisabledCmd(disabled bool) *cobra.Command {
	use, short := "enable EMAIL", "Enable a disabled user again"
	if disabled {
		use, short = "disable EMAIL", "Disable a user: signed out everywhere, grants and API keys revoked"
	}
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u *identity.User
			var n int
			err := a.act(cmd.Context(), func(st *store.Store, svc *manage.Service) error {
				who, err := userByEmail(cmd.Context(), st, args[0])
				if err != nil {
					return err
				}
				u, n, err = svc.SetUserDisabled(cmd.Context(), manage.CLI, who.ID, disabled)
				return err
			})
			if err != nil {
				return err
			}
			return a.print(manage.ViewUser(u), func(w *tabwriter.Writer) {
				if disabled {
					fmt.Fprintf(w, "disabled %s; %d grant(s) and their tokens revoked, API keys revoked\n", u.Email, n)
				} else {
					fmt.Fprintf(w, "enabled %s\n", u.Email)
				}
			})
		},
	}
}

func (a *app) userUpdateCmd() *cobra.Command {
	var name string
	var verified bool
	cmd := &cobra.Command{
		Use:   "update EMAIL|ID",
		Short: "Change a user's display name or verified-email flag",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p manage.UserPatch
			if cmd.Flags().Changed("name") {
				p.Name = &name
			}
			if cmd.Flags().Changed("email-verified") {
				p.EmailVerified = &verified
			}
			var u *identity.User
			err := a.act(cmd.Context(), func(st *store.Store, svc *manage.Service) error {
				who, err := st.UserByID(cmd.Context(), args[0])
				if identity.IsNotFound(err) {
					who, err = userByEmail(cmd.Context(), st, args[0])
				}
				if err != nil {
					return err
				}
				u, err = svc.UpdateUser(cmd.Context(), manage.CLI, who.ID, p)
				return err
			})
			if err != nil {
				return err
			}
			v := manage.ViewUser(u)
			return a.print(v, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "updated %s (%s): name %q, email verified %v\n", v.Email, v.ID, v.Name, v.EmailVerified)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "display name (empty removes it)")
	cmd.Flags().BoolVar(&verified, "email-verified", false, "whether the email address is verified (--email-verified=false clears it)")
	return cmd
}
