package clientaddr

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParsePrefixes(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		wantErr  string
	}{
		{"empty", "", nil, ""},
		{"cidrs and bare addresses", "10.0.0.0/8, 127.0.0.1 ,::1,2001:db8::/32", []string{"10.0.0.0/8", "127.0.0.1/32", "::1/128", "2001:db8::/32"}, ""},
		{"host bits are masked", "10.1.2.3/8", []string{"10.0.0.0/8"}, ""},
		{"blank items skipped", ",127.0.0.1,,", []string{"127.0.0.1/32"}, ""},
		{"every bad item reported", "10.0.0.0/33,proxy.local,127.0.0.1,fe80::1%eth0", nil, `"10.0.0.0/33", "proxy.local", "fe80::1%eth0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrefixes(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got %v, want %v", s, tc.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	trusted, err := ParsePrefixes("127.0.0.1, 10.0.0.0/8, 2001:db8:1::/48")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		peer       string
		tls        bool
		headers    [][2]string
		wantAddr   string
		wantScheme string
	}{
		{"no headers", "192.0.2.1:1234", false, nil, "192.0.2.1", "http"},
		{"direct TLS", "192.0.2.1:1234", true, nil, "192.0.2.1", "https"},
		{"untrusted peer: headers ignored", "192.0.2.1:1234", false,
			[][2]string{{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-Proto", "https"}, {"Forwarded", "for=203.0.113.8;proto=https"}},
			"192.0.2.1", "http"},
		{"untrusted peer over TLS: proto header ignored", "192.0.2.1:1234", true,
			[][2]string{{"X-Forwarded-Proto", "http"}}, "192.0.2.1", "https"},
		{"trusted peer, one hop", "127.0.0.1:5000", false,
			[][2]string{{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-Proto", "https"}}, "203.0.113.7", "https"},
		{"client-written entries left of the real one are ignored", "127.0.0.1:5000", false,
			[][2]string{{"X-Forwarded-For", "1.1.1.1, 203.0.113.7"}}, "203.0.113.7", "http"},
		{"right-most untrusted across proxies", "10.0.0.5:5000", false,
			[][2]string{{"X-Forwarded-For", "1.1.1.1, 203.0.113.7, 10.0.0.9"}}, "203.0.113.7", "http"},
		{"several header lines", "10.0.0.5:5000", false,
			[][2]string{{"X-Forwarded-For", "1.1.1.1"}, {"X-Forwarded-For", "203.0.113.7, 10.1.1.1"}}, "203.0.113.7", "http"},
		{"all hops trusted: left-most", "10.0.0.5:5000", false,
			[][2]string{{"X-Forwarded-For", "10.9.9.9, 10.0.0.9"}}, "10.9.9.9", "http"},
		{"with port", "127.0.0.1:5000", false, [][2]string{{"X-Forwarded-For", "203.0.113.7:4711"}}, "203.0.113.7", "http"},
		{"IPv6", "127.0.0.1:5000", false, [][2]string{{"X-Forwarded-For", "2001:db8:2::1"}}, "2001:db8:2::1", "http"},
		{"IPv4-mapped IPv6 becomes IPv4", "127.0.0.1:5000", false, [][2]string{{"X-Forwarded-For", "::ffff:203.0.113.7"}}, "203.0.113.7", "http"},
		{"garbage right-most: the proxy is the client", "127.0.0.1:5000", false,
			[][2]string{{"X-Forwarded-For", "203.0.113.7, not-an-ip"}}, "127.0.0.1", "http"},
		{"empty header", "127.0.0.1:5000", false, [][2]string{{"X-Forwarded-For", ""}}, "127.0.0.1", "http"},
		{"proto only", "127.0.0.1:5000", false, [][2]string{{"X-Forwarded-Proto", "HTTPS"}}, "127.0.0.1", "https"},
		{"bad proto ignored", "127.0.0.1:5000", false,
			[][2]string{{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-Proto", "javascript"}}, "203.0.113.7", "http"},
		{"right-most proto value", "127.0.0.1:5000", false,
			[][2]string{{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-Proto", "http, https"}}, "203.0.113.7", "https"},
		{"Forwarded", "127.0.0.1:5000", false,
			[][2]string{{"Forwarded", "for=203.0.113.7;proto=https;by=127.0.0.1"}}, "203.0.113.7", "https"},
		// nginx with $proxy_add_x_forwarded_for passes a client's own
		// Forwarded header through: X-Forwarded-For must win.
		{"X-Forwarded-For wins over a passed-through Forwarded", "127.0.0.1:5000", false,
			[][2]string{{"Forwarded", "for=203.0.113.7;proto=https"}, {"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-Proto", "http"}}, "198.51.100.1", "http"},
		{"Forwarded quoted IPv6 with port", "127.0.0.1:5000", false,
			[][2]string{{"Forwarded", `For="[2001:db8:cafe::17]:4711"`}}, "2001:db8:cafe::17", "http"},
		{"Forwarded several elements", "10.0.0.5:5000", false,
			[][2]string{{"Forwarded", `for=1.1.1.1, for=203.0.113.7;proto=https, for=10.0.0.9`}}, "203.0.113.7", "https"},
		{"Forwarded obfuscated: the proxy is the client", "127.0.0.1:5000", false,
			[][2]string{{"Forwarded", "for=_hidden"}}, "127.0.0.1", "http"},
		{"Forwarded unknown", "127.0.0.1:5000", false, [][2]string{{"Forwarded", "for=unknown"}}, "127.0.0.1", "http"},
		{"Forwarded proto only", "127.0.0.1:5000", false, [][2]string{{"Forwarded", "proto=https"}}, "127.0.0.1", "https"},
		{"Forwarded quoted comma stays in one element", "127.0.0.1:5000", false,
			[][2]string{{"Forwarded", `for=203.0.113.7;ext="a,b"`}}, "203.0.113.7", "http"},
		{"trusted IPv6 peer", "[2001:db8:1::5]:5000", false, [][2]string{{"X-Forwarded-For", "203.0.113.7"}}, "203.0.113.7", "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.peer
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			} else {
				r.TLS = nil
			}
			for _, h := range tc.headers {
				r.Header.Add(h[0], h[1])
			}
			var addr, scheme string
			Middleware(trusted)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				addr, scheme = Of(r), Scheme(r)
			})).ServeHTTP(httptest.NewRecorder(), r)
			if addr != tc.wantAddr || scheme != tc.wantScheme {
				t.Fatalf("got %s %s, want %s %s", addr, scheme, tc.wantAddr, tc.wantScheme)
			}
		})
	}
}

// Without Middleware, Of and Scheme are the connection's.
func TestWithoutMiddleware(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	if Of(r) != "192.0.2.1" || Scheme(r) != "http" {
		t.Fatalf("got %s %s", Of(r), Scheme(r))
	}
}

// FuzzResolve: any header value from a trusted peer gives a parseable
// address and a known scheme, and never one of the client's entries left of
// a hop that is not trusted.
func FuzzResolve(f *testing.F) {
	f.Add("203.0.113.7, 10.0.0.1", "https", "")
	f.Add("", "", `for="[2001:db8::1]:80";proto=https, for=10.0.0.1`)
	f.Add("1.1.1.1,,", "http,https", `for="\"x"`)
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, xff, xfp, fwd string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.1:1"
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("X-Forwarded-Proto", xfp)
		if fwd != "" {
			r.Header.Set("Forwarded", fwd)
		}
		c := Resolve(r, trusted)
		if _, err := netip.ParseAddr(c.Addr); err != nil {
			t.Fatalf("address %q", c.Addr)
		}
		if c.Scheme != "http" && c.Scheme != "https" {
			t.Fatalf("scheme %q", c.Scheme)
		}
		r.RemoteAddr = "192.0.2.1:1"
		if c := Resolve(r, trusted); c.Addr != "192.0.2.1" || c.Scheme != "http" {
			t.Fatalf("untrusted peer: %+v", c)
		}
	})
}

func TestBucket(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"192.0.2.7:4000", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:4000", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:4000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:4000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:4000", "2001:db8:1:3::/64"},
		{"[fe80::1%eth0]:4000", "fe80::/64"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		if got := Bucket(r); got != tc.want {
			t.Errorf("Bucket(%s) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}
