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

// cliRegistrationToken is an initial access token as the CLI prints it;
// Token only in the answer to create.
type cliRegistrationToken struct {
	Token     string     `json:"token,omitempty"`
	ID        string     `json:"id"`
	Prefix    string     `json:"prefix"`
	MaxUses   int        `json:"max_uses"`
	Uses      int        `json:"uses"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func viewRegistrationToken(t *identity.RegistrationToken, token string) cliRegistrationToken {
	return cliRegistrationToken{Token: token, ID: t.ID, Prefix: t.Prefix, MaxUses: t.MaxUses, Uses: t.Uses,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
}

// registrationTokenCmd manages the initial access tokens that registration
// "token" requires (RFC 7591 §3).
func (a *app) registrationTokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "registration-token", Short: "Manage initial access tokens for client registration (registration: token)"}
	var expires time.Duration
	var uses int
	create := &cobra.Command{
		Use: "create", Short: "Create an initial access token; prints it once", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out cliRegistrationToken
			err := a.act(cmd.Context(), func(_ *store.Store, svc *manage.Service) error {
				t, token, err := svc.CreateRegistrationToken(cmd.Context(), manage.CLI, expires, uses)
				if err == nil {
					out = viewRegistrationToken(t, token)
				}
				return err
			})
			if err != nil {
				return err
			}
			return a.print(out, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "token:\t%s\nid:\t%s\nuses:\t%s\nexpires:\t%s\n", out.Token, out.ID, usesText(out.MaxUses), fmtTime(out.ExpiresAt, "never"))
				fmt.Fprintln(w, "\nGive the token to the app developer now: it is shown only once. It is sent as")
				fmt.Fprintln(w, "'Authorization: Bearer TOKEN' to the registration endpoint.")
			})
		},
	}
	create.Flags().DurationVar(&expires, "expires", 24*time.Hour, "lifetime, e.g. 24h; 0 for no expiry")
	create.Flags().IntVar(&uses, "uses", 1, "how many clients it may register; 0 for unlimited")

	list := &cobra.Command{
		Use: "list", Short: "List initial access tokens (never the tokens themselves)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var views []cliRegistrationToken
			err := a.act(cmd.Context(), func(_ *store.Store, svc *manage.Service) error {
				list, err := svc.ListRegistrationTokens(cmd.Context())
				for _, t := range list {
					views = append(views, viewRegistrationToken(t, ""))
				}
				return err
			})
			if err != nil {
				return err
			}
			if views == nil {
				views = []cliRegistrationToken{}
			}
			return a.print(views, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tPREFIX\tUSES\tCREATED\tEXPIRES\tREVOKED")
				for _, v := range views {
					fmt.Fprintf(w, "%s\t%s…\t%d/%s\t%s\t%s\t%s\n", v.ID, v.Prefix, v.Uses, usesText(v.MaxUses),
						v.CreatedAt.Format(time.DateOnly), fmtTime(v.ExpiresAt, "never"), fmtTime(v.RevokedAt, "-"))
				}
			})
		},
	}
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke an initial access token", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := a.act(cmd.Context(), func(_ *store.Store, svc *manage.Service) error {
				return svc.RevokeRegistrationToken(cmd.Context(), manage.CLI, args[0])
			})
			if err != nil {
				return err
			}
			return a.done(map[string]any{"revoked": true, "id": args[0]}, "revoked registration token %s\n", args[0])
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func usesText(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}
