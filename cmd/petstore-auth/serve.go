package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	petstoreauth "github.com/petstore-auth/petstore-auth"
	"github.com/petstore-auth/petstore-auth/pkg/server"
)

func (a *app) serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the authorization server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			var level slog.Level
			_ = level.UnmarshalText([]byte(cfg.LogLevel))
			logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			slog.SetDefault(logger)
			opts := server.Options{Logger: logger}
			if cfg.WebDir == "" {
				opts.Web = petstoreauth.Web
			}
			s, err := server.Open(cmd.Context(), cfg, opts)
			if err != nil {
				return err
			}
			defer s.Close()
			return s.Serve(cmd.Context(), func(addr string) {
				logger.Info("petstore-auth listening", "addr", addr, "issuer", cfg.Issuer, "database", cfg.RedactedDatabaseURL(), "dev", cfg.Dev)
				fmt.Fprintf(a.err, "petstore-auth serving %s on %s\n", cfg.Issuer, addr)
				if m := s.MetricsAddr(); m != "" {
					fmt.Fprintf(a.err, "metrics on http://%s/metrics\n", m)
				}
			})
		},
	}
}
