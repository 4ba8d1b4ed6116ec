package clientmeta

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// docServer is an https server publishing documents; it counts fetches.
type docServer struct {
	*httptest.Server
	fetches atomic.Int64
	mu      sync.Mutex
	handler func(w http.ResponseWriter, r *http.Request)
}

func newDocServer(t *testing.T) *docServer {
	t.Helper()
	s := &docServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		h := s.handler
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *docServer) serve(h func(w http.ResponseWriter, r *http.Request)) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

func (s *docServer) fetcher(dev bool) *Fetcher {
	return &Fetcher{Dev: dev, RootCAs: s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
}

func doc(id string) string {
	return `{"client_id":"` + id + `","client_name":"Agent","redirect_uris":["http://127.0.0.1:5000/cb"]}`
}

// TestFetch covers the fetcher's rules against a real TLS server: a valid
// document is returned; an oversized one, a redirect, a slow server and a
// non-200 are refused with the reason.
func TestFetch(t *testing.T) {
	s := newDocServer(t)
	id := s.URL + "/client.json"
	cases := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		timeout time.Duration
		want    string // "" = success; else part of the error
	}{
		{"valid", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(doc(id))) }, 0, ""},
		{"exactly 5 KB", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(strings.Repeat(" ", 5<<10))) }, 0, ""},
		{"oversized", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(strings.Repeat(" ", 5<<10+1))) }, 0, "bytes"},
		{"oversized without length", func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(strings.Repeat(" ", 3<<10)))
			w.(http.Flusher).Flush()
			w.Write([]byte(strings.Repeat(" ", 3<<10)))
		}, 0, "larger than"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/other.json", http.StatusFound) }, 0, "redirect"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, 100 * time.Millisecond, "did not answer"},
		{"not found", func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }, 0, "answered 404"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.serve(c.handler)
			f := s.fetcher(true)
			f.Timeout = c.timeout
			body, err := f.Fetch(context.Background(), id)
			if c.want == "" {
				if err != nil || len(body) == 0 {
					t.Fatalf("fetch: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want a refusal mentioning %q", err, c.want)
			}
		})
	}
}

// TestFetchRefusesNonPublicAddressesInProduction: in production a name
// that resolves to a private or loopback address is refused before any
// connection (the test server is never reached), as is a loopback literal
// and plain http; in development mode the same loopback server is
// fetched.
func TestFetchRefusesNonPublicAddressesInProduction(t *testing.T) {
	s := newDocServer(t)
	s.serve(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("{}")) })
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	for _, target := range []string{"10.0.0.1", "127.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1", "0.0.0.0"} {
		f := s.fetcher(false)
		f.Resolve = func(context.Context, string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr(target)}, nil
		}
		_, err := f.Fetch(context.Background(), "https://pets-agent.example:"+port+"/client.json")
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "not a public address") {
			t.Errorf("name resolving to %s: %v", target, err)
		}
	}
	f := s.fetcher(false)
	if _, err := f.Fetch(context.Background(), s.URL+"/client.json"); !errors.Is(err, ErrRefused) {
		t.Errorf("loopback literal in production: %v", err)
	}
	if _, err := f.Fetch(context.Background(), "http://127.0.0.1:"+port+"/client.json"); err == nil || !strings.Contains(err.Error(), "https only") {
		t.Errorf("plain http in production: %v", err)
	}
	if n := s.fetches.Load(); n != 0 {
		t.Fatalf("the server was reached %d times", n)
	}
	if _, err := s.fetcher(true).Fetch(context.Background(), s.URL+"/client.json"); err != nil {
		t.Errorf("development mode, loopback: %v", err)
	}
}

// TestFetchCaching: an answer is reused for its max-age (bounded below by
// MinTTL and above by MaxTTL); a failure is cached for FailTTL only.
func TestFetchCaching(t *testing.T) {
	s := newDocServer(t)
	id := s.URL + "/client.json"
	var cc atomic.Value
	cc.Store("max-age=600")
	s.serve(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", cc.Load().(string))
		w.Write([]byte(doc(id)))
	})
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := s.fetcher(true)
	f.Now = clock
	fetch := func() {
		t.Helper()
		if _, err := f.Fetch(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	fetch()
	fetch()
	advance(9 * time.Minute)
	fetch()
	if n := s.fetches.Load(); n != 1 {
		t.Fatalf("within max-age: %d fetches, want 1", n)
	}
	advance(2 * time.Minute)
	fetch()
	if n := s.fetches.Load(); n != 2 {
		t.Fatalf("after max-age: %d fetches, want 2", n)
	}
	// max-age=0 is raised to MinTTL (1 min).
	cc.Store("max-age=0")
	advance(11 * time.Minute)
	fetch()
	advance(30 * time.Second)
	fetch()
	if n := s.fetches.Load(); n != 3 {
		t.Fatalf("max-age=0 within MinTTL: %d fetches, want 3", n)
	}
	// A year is cut to MaxTTL (24 h).
	cc.Store("public, max-age=31536000")
	advance(time.Minute)
	fetch()
	advance(23 * time.Hour)
	fetch()
	advance(2 * time.Hour)
	fetch()
	if n := s.fetches.Load(); n != 5 {
		t.Fatalf("max-age beyond MaxTTL: %d fetches, want 5", n)
	}
	// A failure is remembered briefly, then retried.
	s.serve(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusInternalServerError) })
	advance(25 * time.Hour)
	for range 3 {
		if _, err := f.Fetch(context.Background(), id); err == nil {
			t.Fatal("a failing server succeeded")
		}
	}
	if n := s.fetches.Load(); n != 6 {
		t.Fatalf("failures within FailTTL: %d fetches, want 6", n)
	}
	advance(DefaultFailTTL + time.Second)
	_, _ = f.Fetch(context.Background(), id)
	if n := s.fetches.Load(); n != 7 {
		t.Fatalf("after FailTTL: %d fetches, want 7", n)
	}
}

// TestPublicAddr is the address table of the SSRF rule.
func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": true, "1.1.1.1": true,
		"10.0.0.1": false, "172.16.5.4": false, "192.168.1.1": false, "127.0.0.1": false, "127.8.9.10": false,
		"169.254.169.254": false, "0.0.0.0": false, "100.64.0.1": false, "224.0.0.1": false, "255.255.255.255": false,
		"::1": false, "::": false, "fe80::1": false, "fd00::1": false, "ff02::1": false, "::ffff:10.0.0.1": false,
		"::ffff:127.0.0.1": false, "64:ff9b::a00:1": false, "2001:db8::1": false, "198.18.0.1": false,
	} {
		if got := PublicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

// FuzzTTL: any Cache-Control value gives a cache time within the bounds.
func FuzzTTL(f *testing.F) {
	for _, s := range []string{"max-age=60", "no-store", "max-age=-1", "max-age=99999999999999999999", `max-age="5"`, "", ",,,"} {
		f.Add(s)
	}
	fe := &Fetcher{}
	fe.init()
	f.Fuzz(func(t *testing.T, cc string) {
		if d := fe.ttl(cc); d < DefaultMinTTL || d > DefaultMaxTTL {
			t.Fatalf("ttl(%q) = %s", cc, d)
		}
	})
}
