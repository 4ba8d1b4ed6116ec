package main

import (
	"fmt"
	"log/slog"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/store"
)

func (a *app) migrateCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply or inspect database migrations"}
	open := func(cmd *cobra.Command) (*store.Store, error) {
		cfg, err := a.config()
		if err != nil {
			return nil, err
		}
		return store.Open(cmd.Context(), cfg.DatabaseURL, store.Options{Logger: slog.New(slog.DiscardHandler)})
	}
	cmd.AddCommand(&cobra.Command{
		Use: "up", Short: "Apply all pending migrations", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.MigrateUp(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(a.out, "database is up to date")
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "status", Short: "List migrations and whether they are applied", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			status, err := st.MigrationStatus(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(status, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "VERSION\tNAME\tAPPLIED")
				for _, s := range status {
					applied := "pending"
					if s.Applied {
						applied = s.AppliedAt.Format("2006-01-02 15:04:05")
					}
					fmt.Fprintf(w, "%d\t%s\t%s\n", s.Version, s.Name, applied)
				}
			})
		},
	})
	return cmd
}
