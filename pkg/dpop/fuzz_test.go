package dpop_test

import (
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/dpop"
	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
)

// FuzzParseProof feeds arbitrary headers to the proof parser: it must never
// panic, and whatever it accepts has a thumbprint and the required claims.
func FuzzParseProof(f *testing.F) {
	k := dpoptest.NewKey()
	f.Add(k.Proof("POST", "https://as.example.com/oauth2/token", dpoptest.Opts{}))
	f.Add(k.Proof("GET", htu, dpoptest.Opts{EmbedPrivate: true}))
	f.Add(dpoptest.Unsigned("none", "GET", htu))
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := dpop.Parse(s)
		if err != nil {
			return
		}
		if p.JKT == "" || p.JTI == "" || p.HTM == "" || p.HTU == "" || p.IssuedAt.IsZero() {
			t.Fatalf("accepted proof without required parts: %+v", p)
		}
	})
}
