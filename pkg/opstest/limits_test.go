package opstest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/server"
)

// TestSQLiteConcurrentWriters: 32 clients issuing and revoking tokens at once
// on SQLite never see a 5xx or "database is locked".
func TestSQLiteConcurrentWriters(t *testing.T) {
	r := openReplica(t, baseConfig(t, sqliteURL(t)))
	f := seed(t, r)
	const workers, rounds = 32, 8
	var (
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
	)
	fail := func(s string) { mu.Lock(); failures = append(failures, s); mu.Unlock() }
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				st, m, body := post(t, nil, r.URL+"/oauth2/token", f.svc, url.Values{"grant_type": {"client_credentials"}})
				if st != http.StatusOK || strings.Contains(strings.ToLower(body), "locked") {
					fail(fmt.Sprintf("token: %d %.200s", st, body))
					continue
				}
				tok, _ := m["access_token"].(string)
				st, _, body = post(t, nil, r.URL+"/oauth2/revoke", f.svc, url.Values{"token": {tok}})
				if st != http.StatusOK || strings.Contains(strings.ToLower(body), "locked") {
					fail(fmt.Sprintf("revoke: %d %.200s", st, body))
				}
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests failed under concurrent writers; first: %s", len(failures), 2*workers*rounds, failures[0])
	}
}

// TestDatabaseOutage: with the database gone, requests that need it get a
// 503 with Retry-After — never a hang, never a 200 for a revocation that
// was not stored, never "inactive" for a token that could not be checked —
// while liveness stays up and readiness reports the outage.
func TestDatabaseOutage(t *testing.T) {
	r := openReplica(t, baseConfig(t, sqliteURL(t)))
	f := seed(t, r)
	tok := clientCredentials(t, r.URL, f.svc)
	if err := r.Store.DB().Close(); err != nil { // the database disappears
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 15 * time.Second} // a hang fails the test instead of stalling it
	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		client creds
		want   int
	}{
		{"revocation is not acknowledged", "/oauth2/revoke", url.Values{"token": {tok}}, f.svc, http.StatusServiceUnavailable},
		{"introspection does not say inactive", "/oauth2/introspect", url.Values{"token": {tok}}, f.rs, http.StatusServiceUnavailable},
		{"token endpoint", "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, f.svc, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, r.URL+tc.path, strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(tc.client.id), url.QueryEscape(tc.client.secret))
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.want, body)
			}
			if res.Header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
			if !strings.Contains(string(body), "temporarily_unavailable") {
				t.Fatalf("body %s, want a temporarily_unavailable error", body)
			}
		})
	}
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusServiceUnavailable, "/.well-known/jwks.json": http.StatusOK} {
		res, err := c.Get(r.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s during the outage: %d, want %d", path, res.StatusCode, want)
		}
	}
}

// TestBadInputAtVolume sends oversized bodies, headers and scopes and holds
// many slow connections open against a real http.Server with the production
// limits, while normal traffic keeps being served.
func TestBadInputAtVolume(t *testing.T) {
	rep := openReplica(t, baseConfig(t, sqliteURL(t)))
	f := seed(t, rep)
	srv := server.HTTPServer(rep.Handler)
	srv.ReadHeaderTimeout = time.Second // production is 5 s; shorter keeps the test quick
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	base := "http://" + ln.Addr().String()

	// normal measures the latency of ordinary requests (token + healthz).
	normal := func(n int) []time.Duration {
		t.Helper()
		var out []time.Duration
		for range n {
			t0 := time.Now()
			if st, _, body := post(t, nil, base+"/oauth2/token", f.svc, url.Values{"grant_type": {"client_credentials"}}); st != http.StatusOK {
				t.Fatalf("normal traffic refused: %d %s", st, body)
			}
			out = append(out, time.Since(t0))
		}
		slices.Sort(out)
		return out
	}
	before := normal(40)
	var m0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)

	rawStatus := func(t *testing.T, req string, body io.Reader) int {
		t.Helper()
		conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
		go func() {
			_, _ = io.WriteString(conn, req)
			if body != nil {
				_, _ = io.Copy(conn, body) // the server may stop reading: errors are expected
			}
		}()
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no HTTP answer: %v", err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	t.Run("10 MiB body is refused with 413", func(t *testing.T) {
		const size = 10 << 20
		req := fmt.Sprintf("POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nAuthorization: Basic eDp5\r\n\r\n", size)
		body := io.MultiReader(strings.NewReader("grant_type=client_credentials&x="), io.LimitReader(filler{}, size-32))
		if st := rawStatus(t, req, body); st != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", st)
		}
	})
	t.Run("1 MiB header is refused with 431", func(t *testing.T) {
		req := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20) + "\r\n\r\n"
		if st := rawStatus(t, req, nil); st != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", st)
		}
	})
	t.Run("100 KiB scope is refused with 400", func(t *testing.T) {
		scope := strings.TrimSpace(strings.Repeat("read:pets ", 10<<10))
		st, m, _ := post(t, nil, base+"/oauth2/token", f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
		if st != http.StatusBadRequest || m["error"] == nil {
			t.Fatalf("status %d %v, want 400 with an OAuth error", st, m)
		}
	})

	t.Run("1000 slow connections do not starve normal traffic", func(t *testing.T) {
		const slow = 1000
		conns := make([]net.Conn, 0, slow)
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for range slow {
			c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
			if err != nil {
				t.Fatalf("dial slow connection %d: %v", len(conns), err)
			}
			// Half a request line, then nothing: a slowloris.
			_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
			conns = append(conns, c)
		}
		during := normal(40)
		var m1 runtime.MemStats
		runtime.ReadMemStats(&m1)
		t.Logf("token latency p50 before %s, with %d slow connections %s; heap %d → %d MiB (test client and server together)",
			before[len(before)/2], slow, during[len(during)/2], m0.HeapAlloc>>20, m1.HeapAlloc>>20)

		// The server drops them after ReadHeaderTimeout (1 s here).
		closed := 0
		deadline := time.Now().Add(10 * time.Second)
		buf := make([]byte, 512)
		for _, c := range conns {
			_ = c.SetReadDeadline(deadline)
			if _, err := c.Read(buf); err != nil && !isTimeout(err) {
				closed++
			} else if err == nil {
				closed++ // an error answer (408) before closing
			}
		}
		if closed != slow {
			t.Fatalf("%d of %d slow connections still open 10 s after ReadHeaderTimeout", slow-closed, slow)
		}
	})
	after := normal(40)
	t.Logf("token latency p50 after the bad input: %s (before: %s)", after[len(after)/2], before[len(before)/2])
}

// filler is an endless stream of "a".
type filler struct{}

func (filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && errors.As(err, &ne) && ne.Timeout()
}
