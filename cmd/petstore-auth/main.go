// Command petstore-auth is the PetStore authorization server and its admin
// CLI. Every subcommand works on the configured database directly.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := newRootCmd(os.Stdin, os.Stdout, os.Stderr)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", friendly(err))
		os.Exit(exitCode(err))
	}
}

// friendly prints identity errors by their message only.
func friendly(err error) string {
	var e *identity.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func exitCode(err error) int {
	switch identity.ErrorCode(err) {
	case identity.EINVALID:
		return 2
	case identity.ENOTFOUND:
		return 3
	case identity.ECONFLICT:
		return 4
	}
	return 1
}
