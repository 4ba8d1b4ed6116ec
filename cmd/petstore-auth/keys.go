package main

import (
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
)

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "JWT signing keys"}
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List signing keys (public parts only)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			keys, err := st.ListSigningKeys(cmd.Context())
			if err != nil {
				return err
			}
			views := []manage.SigningKeyView{}
			for _, k := range keys {
				views = append(views, manage.ViewSigningKey(k))
			}
			return a.print(views, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "KID\tALG\tCREATED\tSTATE")
				for i, k := range views {
					state := "current"
					if k.RetiredAt != nil {
						state = "retired " + k.RetiredAt.Format("2006-01-02 15:04")
					} else if i > 0 {
						state = "active"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.KID, k.Algorithm, k.CreatedAt.Format("2006-01-02 15:04"), state)
				}
			})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "rotate", Short: "Create a new signing key; the old one stays published until its tokens expire", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, cfg, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			secret, err := cfg.SecretBytes()
			if err != nil {
				return err
			}
			p, err := provider.New(cmd.Context(), provider.Config{Issuer: cfg.Issuer, Secret: secret, PreviousSecrets: cfg.PreviousSecretBytes(),
				AccessTokenLifespan: time.Duration(cfg.Tokens.AccessTokenLifespan), Resources: cfg.ResourceList()},
				st, provider.Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				return err
			}
			keys, err := a.service(st).RotateSigningKey(cmd.Context(), manage.CLI, p)
			if err != nil {
				return err
			}
			out := make([]map[string]any, len(keys))
			var text strings.Builder
			for i, k := range keys {
				out[i] = map[string]any{"kid": k.ID, "alg": k.Algorithm, "current": true}
				fmt.Fprintf(&text, "new signing key %s (%s) is current\n", k.ID, k.Algorithm)
			}
			text.WriteString("previous keys stay published until their tokens expire\n")
			return a.done(out, "%s", text.String())
		},
	})
	return cmd
}
