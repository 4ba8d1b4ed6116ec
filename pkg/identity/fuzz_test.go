package identity

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzParseScopes: never panics; accepts only known scopes, each once, from
// a bounded string, and keeps them in the order given; refusals are EINVALID.
// Seeds: testdata/fuzz/FuzzParseScopes (SC-02, SC-03 vectors).
func FuzzParseScopes(f *testing.F) {
	f.Add("read:pets offline_access")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseScopes(s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ParseScopes(%q): error code %q, want %q", s, ErrorCode(err), EINVALID)
			}
			return
		}
		if len(s) > MaxScopeLength || len(got) > len(Scopes) {
			t.Fatalf("ParseScopes(%q) accepted an oversized value: %q", s, got)
		}
		for i, g := range got {
			if _, ok := LookupScope(g); !ok {
				t.Fatalf("ParseScopes(%q) returned unknown scope %q", s, g)
			}
			if slices.Contains(got[:i], g) {
				t.Fatalf("ParseScopes(%q) returned %q twice", s, g)
			}
		}
		var want []string
		for _, w := range strings.Split(s, " ") {
			if w != "" {
				want = append(want, w)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ParseScopes(%q) = %q, want the space-separated words %q", s, got, want)
		}
	})
}

// FuzzValidateRedirectURI: never panics; an accepted URI is absolute https,
// or http on a loopback host, without fragment, user info, wildcard or
// whitespace, and parses back to the same string.
// Seeds: testdata/fuzz/FuzzValidateRedirectURI (RD-01, RD-03, RD-04 vectors).
func FuzzValidateRedirectURI(f *testing.F) {
	f.Add("https://app.example/cb")
	f.Fuzz(func(t *testing.T, raw string) {
		err := ValidateRedirectURI(raw)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ValidateRedirectURI(%q): error code %q, want %q", raw, ErrorCode(err), EINVALID)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("accepted %q, which url.Parse refuses: %v", raw, perr)
		}
		if u.String() != raw {
			t.Fatalf("accepted %q, which does not round-trip through url.Parse (%q)", raw, u.String())
		}
		lower := strings.ToLower(raw)
		switch {
		case strings.ContainsAny(raw, "#*\\ \t\r\n") || u.Fragment != "":
			t.Fatalf("accepted %q with a fragment, wildcard or whitespace", raw)
		case u.User != nil || strings.Contains(u.Host, "@"):
			t.Fatalf("accepted %q with user info", raw)
		case strings.HasPrefix(lower, "javascript:") || strings.HasPrefix(lower, "data:") || strings.HasPrefix(lower, "vbscript:"):
			t.Fatalf("accepted the script scheme of %q", raw)
		case u.Scheme != "https" && u.Scheme != "http":
			t.Fatalf("accepted the scheme of %q", raw)
		case u.Hostname() == "":
			t.Fatalf("accepted %q without a host", raw)
		case u.Scheme == "http" && u.Hostname() != "localhost" && !isLoopbackIP(u.Hostname()):
			t.Fatalf("accepted plain http on the non-loopback host of %q", raw)
		}
		for _, k := range []string{"code", "state", "iss", "error"} {
			if u.Query().Has(k) {
				t.Fatalf("accepted %q, which already carries %q", raw, k)
			}
		}
	})
}

func isLoopbackIP(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// FuzzValidateOrigin: never panics; an accepted origin is https, or http on
// a loopback host, with a host and nothing after it, and is exactly what
// OriginOf makes of it (the form a browser sends in the Origin header).
// Seeds: testdata/fuzz/FuzzValidateOrigin.
func FuzzValidateOrigin(f *testing.F) {
	f.Add("https://app.example")
	f.Add("http://[::1]:8080")
	f.Fuzz(func(t *testing.T, raw string) {
		err := ValidateOrigin(raw)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ValidateOrigin(%q): error code %q, want %q", raw, ErrorCode(err), EINVALID)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			t.Fatalf("ValidateOrigin accepted %q, which is not a bare origin", raw)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
			t.Fatalf("ValidateOrigin accepted %q: scheme %q on host %q", raw, u.Scheme, u.Hostname())
		}
		if o, ok := OriginOf(raw); !ok || o != raw {
			t.Fatalf("ValidateOrigin accepted %q, but its origin is %q", raw, o)
		}
		if strings.ContainsAny(raw, "*\\ \t\r\n") {
			t.Fatalf("ValidateOrigin accepted %q with a wildcard, backslash or space", raw)
		}
	})
}

// FuzzUserCode: NormalizeUserCode never panics; what it accepts is
// exactly 8 characters of UserCodeAlphabet, is a fixed point, and is what
// the input becomes once case, spaces and dashes are ignored; every code
// NewUserCode makes is accepted in its display form and in lower case.
// Seeds: testdata/fuzz/FuzzUserCode.
func FuzzUserCode(f *testing.F) {
	f.Add("BCDF-GHJK")
	f.Add(NewUserCode())
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeUserCode(s)
		if !ok {
			if got != "" {
				t.Fatalf("NormalizeUserCode(%q) refused but returned %q", s, got)
			}
			return
		}
		if len(got) != UserCodeLen || strings.Trim(got, UserCodeAlphabet) != "" {
			t.Fatalf("NormalizeUserCode(%q) = %q: not %d characters of %s", s, got, UserCodeLen, UserCodeAlphabet)
		}
		if again, ok := NormalizeUserCode(got); !ok || again != got {
			t.Fatalf("NormalizeUserCode(%q) = %q, not a fixed point (%q, %v)", s, got, again, ok)
		}
		if again, ok := NormalizeUserCode(FormatUserCode(got)); !ok || again != got {
			t.Fatalf("the display form %q of %q does not normalise back", FormatUserCode(got), got)
		}
		stripped := strings.Map(func(r rune) rune {
			if strings.ContainsRune(" \t-\u2010\u2011\u2013\u2212", r) {
				return -1
			}
			return r
		}, s)
		if !strings.EqualFold(stripped, got) {
			t.Fatalf("NormalizeUserCode(%q) = %q, but without separators the input is %q", s, got, stripped)
		}
	})
}

// TestNewUserCode: codes are XXXX-XXXX over the alphabet and normalise,
// in any case and spacing, to the same code.
func TestNewUserCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := NewUserCode()
		if len(c) != 9 || c[4] != '-' || strings.Trim(strings.Replace(c, "-", "", 1), UserCodeAlphabet) != "" {
			t.Fatalf("NewUserCode() = %q", c)
		}
		n, ok := NormalizeUserCode(" " + strings.ToLower(strings.Replace(c, "-", " - ", 1)) + " ")
		if !ok || FormatUserCode(n) != c {
			t.Fatalf("%q does not normalise back: %q %v", c, n, ok)
		}
		seen[c] = true
	}
	if len(seen) < 195 {
		t.Fatalf("only %d distinct codes in 200", len(seen))
	}
}
