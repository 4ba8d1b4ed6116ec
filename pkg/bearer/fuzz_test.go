package bearer

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
)

// FuzzParseAuthorization: never panics; an accepted token is a non-empty
// b64token from a Bearer header within the size limit; refusals are only
// ErrMissing or ErrInvalid.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"", "Bearer", "Bearer ", "bearer abc", "BEARER a.b.c", "Basic dTpw", "Bearer a b",
		"Bearer  sk_test_x", "Bearer abc==", "Bearer ab=c", "Bearer \x00", "Bearer\tabc", " Bearer abc "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := ParseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrMissing) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseAuthorization(%q): unexpected error class %v", h, err)
			}
			return
		}
		if tok == "" || len(h) > MaxHeaderLen || !isB64Token(tok) || strings.ContainsAny(tok, " \t\r\n") {
			t.Fatalf("ParseAuthorization(%q) accepted %q", h, tok)
		}
		if !strings.HasPrefix(strings.ToLower(strings.TrimLeft(h, " \t")), "bearer ") {
			t.Fatalf("ParseAuthorization(%q) accepted a non-Bearer scheme", h)
		}
	})
}

// FuzzJWTShape: JWT verification never panics, refuses with ErrInvalid or
// ErrUnavailable, and accepts nothing but the one token the fake server
// signed (any mutation of header, payload or signature fails).
func FuzzJWTShape(f *testing.F) {
	c := newClock()
	as := bearertest.NewServer(f, c.Now)
	v := &Verifier{Issuer: as.URL, ClientID: bearertest.ClientID, ClientSecret: bearertest.ClientSecret, Now: c.Now,
		Logger: slog.New(slog.DiscardHandler)}
	v.init()
	good := as.JWT(as.Claims("read:pets"))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("..")
	f.Add(strings.Repeat("A", 5000) + ".e30.e30")
	f.Fuzz(func(t *testing.T, token string) {
		p, _, _, err := v.verifyJWT(context.Background(), token)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnavailable) {
				t.Fatalf("unexpected error class %v", err)
			}
			return
		}
		if token != good {
			t.Fatalf("accepted %q (%+v), which the server did not sign", token, p)
		}
	})
}
