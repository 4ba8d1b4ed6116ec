package demo

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzCallback sends arbitrary callback queries to MyApp after "Connect
// with PetStore" was pressed: it never fails with a 5xx of its own, never
// exchanges a code and never connects unless the answer carries exactly the
// state it sent and the issuer's iss (RFC 9207), and no token reaches the browser or
// the logs (checked by the env's cleanup).
// In the seeds, $STATE, $CODE and $ISS stand for the live values.
// Seeds: testdata/fuzz/FuzzCallback (CL-style state/iss/code vectors, RD-12).
func FuzzCallback(f *testing.F) {
	f.Add("code=$CODE&state=$STATE&iss=$ISS")
	f.Fuzz(func(t *testing.T, query string) {
		e := newEnv(t)
		ar := e.startConnect()
		state := ar.Get("state")
		r := strings.NewReplacer("$STATE", url.QueryEscape(state), "$ISS", url.QueryEscape(e.asSrv.URL))
		query = asBrowserSends(r.Replace(query))
		// A real code only as the value of code: MyApp may log what arrives in
		// iss or error, and the env's cleanup fails on any issued code in the logs.
		pairs := strings.Split(query, "&")
		for i, kv := range pairs {
			if strings.HasPrefix(kv, "code=") && strings.Contains(kv, "$CODE") {
				pairs[i] = strings.ReplaceAll(kv, "$CODE", e.as.issueCode(ar.Get("code_challenge")))
			}
		}
		query = strings.Join(pairs, "&")
		p := e.get("/callback?" + query)
		// 502 is MyApp's page for a refusal by PetStore, not a failure of its own.
		if p.status >= 500 && p.status != http.StatusBadGateway {
			t.Fatalf("HTTP %d for %q:\n%s", p.status, query, p.body)
		}
		q, _ := url.ParseQuery(query)
		stateOK := len(q["state"]) == 1 && q.Get("state") == state && len(q["iss"]) == 1 && q.Get("iss") == e.asSrv.URL
		if exchanges, _, _ := e.as.stats(); exchanges > 0 && !stateOK {
			t.Fatalf("code exchanged for callback %q although its state or iss does not match", query)
		}
		if p.status == http.StatusSeeOther && p.location == "/" && !stateOK {
			t.Fatalf("connected on callback %q although its state or iss does not match", query)
		}
		if p.status/100 == 3 && p.location != "/" {
			t.Fatalf("callback %q redirected to %q", query, p.location)
		}
	})
}

// asBrowserSends percent-encodes what a browser never puts raw in a query:
// controls, space, '#' and non-ASCII bytes.
func asBrowserSends(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if c := q[i]; c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
