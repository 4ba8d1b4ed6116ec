// Package binarytest lets end-to-end tests run what users run: the
// programs built with `go build`, and the outside tools (Chromium, nginx)
// the tests drive. It is imported by tests only.
package binarytest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Build compiles the named commands of this module (e.g.
// "./cmd/petstore-auth") the way users do, into a temporary directory,
// and returns that directory.
func Build(tb testing.TB, cmds ...string) string {
	tb.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		tb.Fatalf("go is not on PATH: %v", err)
	}
	out := tb.TempDir()
	cmd := exec.Command(gobin, append([]string{"build", "-o", out + string(filepath.Separator)}, cmds...)...)
	cmd.Dir = Root(tb)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// Root returns the module's top directory.
func Root(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("binarytest: cannot locate the module")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Tool returns the path of an outside program the test needs, looked up on
// PATH and then in the given places. Without it the test skips, or fails
// when CI is set (CI must install it: .ci/run does).
func Tool(tb testing.TB, name string, also ...string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range also {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s is not installed and CI is set; .ci/run installs it", name)
	}
	tb.Skipf("%s is not installed (CI is not set)", name)
	return ""
}

// FreeAddr returns a loopback address with a port nobody listens on now.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
