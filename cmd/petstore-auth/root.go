package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/server"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

const defaultConfigPath = "config/petstore-auth.yaml"

// app holds what every subcommand shares.
type app struct {
	configPath string
	output     string
	in         io.Reader
	out, err   io.Writer
}

func newRootCmd(in io.Reader, out, errw io.Writer) *cobra.Command {
	a := &app{in: in, out: out, err: errw}
	root := &cobra.Command{
		Use:           "petstore-auth",
		Short:         "PetStore Auth: OAuth 2.0 authorization server and admin CLI",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Every command that prints takes --output; check it before any work.
		PersistentPreRunE: func(*cobra.Command, []string) error { return a.checkOutput() },
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errw)
	root.PersistentFlags().StringVar(&a.configPath, "config", defaultConfigPath, "configuration file (YAML); PETSTORE_* variables override it")
	root.PersistentFlags().StringVarP(&a.output, "output", "o", "text", "output format: text or json")
	root.AddCommand(a.serveCmd(), a.migrateCmd(), a.clientCmd(), a.userCmd(), a.apikeyCmd(), a.grantCmd(), a.keysCmd(), a.healthcheckCmd(), a.registrationTokenCmd())
	// Unknown flags and wrong arguments are invalid input (exit 2), like
	// every other refusal of what the operator typed.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return identity.Errorf(identity.EINVALID, "%v", err) })
	invalidArgs(root)
	return root
}

// invalidArgs makes the argument checks of c and its subcommands report
// EINVALID.
func invalidArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return identity.Errorf(identity.EINVALID, "%v", err)
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		invalidArgs(sub)
	}
}

// config loads and validates the configuration.
func (a *app) config() (config.Config, error) {
	optional := a.configPath == defaultConfigPath
	cfg, err := config.Load(a.configPath, optional, nil)
	if err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// openStore opens the configured database the way serve does
// (server.OpenStore: development mode migrates, a stale schema is refused).
func (a *app) openStore(ctx context.Context) (*store.Store, config.Config, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, cfg, err
	}
	st, err := server.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(a.err, &slog.HandlerOptions{Level: slog.LevelWarn})), nil)
	return st, cfg, err
}

func (a *app) checkOutput() error {
	if a.output != "text" && a.output != "json" {
		return identity.Errorf(identity.EINVALID, "--output must be text or json, not %q", a.output)
	}
	return nil
}

// done reports a finished action: v as JSON with --output json, else the
// sentence, so that every command that prints something honours --output.
func (a *app) done(v any, format string, args ...any) error {
	return a.print(v, func(w *tabwriter.Writer) { fmt.Fprintf(w, format, args...) })
}

// print writes v as JSON with --output json, else calls text.
func (a *app) print(v any, text func(w *tabwriter.Writer)) error {
	if a.output == "json" {
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

// readSecretLine reads one line (a password) from stdin.
func (a *app) readSecretLine() (string, error) {
	b, err := io.ReadAll(io.LimitReader(a.in, 4096))
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if strings.ContainsAny(s, "\r\n") {
		return "", identity.Errorf(identity.EINVALID, "stdin must hold exactly one line (the password)")
	}
	return s, nil
}

func joinOrDash(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, " ")
}
