package opstest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// TestMetricsAndProbes: what an operator scrapes and probes tells them what
// happened — requests per route and status, tokens issued per grant type,
// failed logins, the database pool and whether the database answers.
func TestMetricsAndProbes(t *testing.T) {
	r := openReplica(t, baseConfig(t, sqliteURL(t)))
	f := seed(t, r)
	clientCredentials(t, r.URL, f.svc)
	clientCredentials(t, r.URL, f.svc)
	br := newBrowser(t)
	p := br.Get(r.URL + "/login")
	form := webtest.Hidden(p.Body)
	form.Set("email", userEmail)
	form.Set("password", "wrong password")
	br.Post(r.URL+"/login", form, "Origin", r.URL)

	req, _ := http.NewRequest(http.MethodGet, r.URL+"/readyz", nil)
	req.Header.Set("X-Request-ID", "trace-42")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Request-ID") != "trace-42" {
		t.Fatalf("/readyz: %d, X-Request-ID %q (want 200 and the caller's id echoed)", res.StatusCode, res.Header.Get("X-Request-ID"))
	}

	want := []string{
		`petstore_auth_http_requests_total{method="POST",route="/oauth2/token",status="200"} 2`,
		`petstore_auth_http_request_duration_seconds_count{method="POST",route="/oauth2/token"} 2`,
		`petstore_auth_events_total{grant_type="client_credentials",outcome="success",type="token.issued"} 2`,
		`type="login.failure"`,
		`go_sql_open_connections{db_name="petstore_auth"}`,
		`petstore_auth_database_up 1`,
		`go_goroutines`,
	}
	// Audit events reach the counter when their batch is written.
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res, err := http.Get(r.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body = string(b)
		if missing(body, want) == "" {
			break
		}
	}
	if m := missing(body, want); m != "" {
		t.Fatalf("metrics lack %s", m)
	}
	for _, secret := range []string{f.svc.secret, "wrong password"} {
		if strings.Contains(body, secret) {
			t.Fatal("a secret is in the metrics")
		}
	}
}

func missing(body string, want []string) string {
	for _, w := range want {
		if !strings.Contains(body, w) {
			return w
		}
	}
	return ""
}
