package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
	"github.com/petstore-auth/petstore-auth/pkg/binarytest"
)

// benchNoAuthEnv is BenchNoAuthEnv of the bench build (benchauth_noauth.go),
// spelled out because the default build does not have it.
const benchNoAuthEnv = "PETSTORE_API_BENCH_NOAUTH_SUBJECT"

// TestBenchNoAuthOnlyInBenchBuild: the binary built the way users build it
// refuses GET /v1/pets without a credential even with the bench variable
// set; the benchmark build (tag petstore_bench_noauth) serves it, which
// shows the variable's name in this test is the live one.
func TestBenchNoAuthOnlyInBenchBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	as := bearertest.NewServer(t, nil)
	shipped := filepath.Join(binarytest.Build(t, "./cmd/petstore-api"), "petstore-api")
	bench := filepath.Join(t.TempDir(), "petstore-api-bench")
	build := exec.Command("go", "build", "-tags", "petstore_bench_noauth", "-o", bench, "./cmd/petstore-api")
	build.Dir = binarytest.Root(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags petstore_bench_noauth: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name, bin string
		want      int
	}{
		{"shipped build refuses", shipped, http.StatusUnauthorized},
		{"bench build serves", bench, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := binarytest.FreeAddr(t)
			cmd := exec.Command(tc.bin, "--config", os.DevNull)
			cmd.Env = append(os.Environ(), "PETSTORE_API_DEV=true", "PETSTORE_API_LISTEN="+addr,
				"PETSTORE_API_METRICS_LISTEN=", "PETSTORE_AUTH_ISSUER="+as.URL,
				"PETSTORE_API_DATABASE_URL=sqlite://"+filepath.Join(t.TempDir(), "api.db"),
				"PETSTORE_API_CLIENT_ID="+bearertest.ClientID, "PETSTORE_API_CLIENT_SECRET="+bearertest.ClientSecret,
				benchNoAuthEnv+"=user-1")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			base := "http://" + addr
			waitFor(t, func() bool {
				resp, err := http.Get(base + "/healthz")
				if err == nil {
					resp.Body.Close()
				}
				return err == nil && resp.StatusCode == http.StatusOK
			})
			resp, err := http.Get(base + "/v1/pets")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("GET /v1/pets without a credential: %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// waitFor polls cond until it holds or a generous deadline passes; it
// asserts an eventual state, not a duration.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
