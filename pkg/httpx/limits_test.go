package httpx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
)

func TestMaxInFlight(t *testing.T) {
	release := make(chan struct{})
	var entered sync.WaitGroup
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered.Done()
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := httpx.MaxInFlight(2, func(r *http.Request) bool { return r.URL.Path == "/healthz" })(slow)

	// Two requests hold both slots.
	entered.Add(2)
	var done sync.WaitGroup
	for range 2 {
		done.Add(1)
		go func() {
			defer done.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slow", nil))
			if rec.Code != http.StatusNoContent {
				t.Errorf("request holding a slot: status %d, want 204", rec.Code)
			}
		}()
	}
	entered.Wait()

	for _, tc := range []struct {
		name       string
		path       string
		wantStatus int
	}{
		{"third request is shed at once", "/other", http.StatusServiceUnavailable},
		{"liveness is exempt", "/healthz", http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			if tc.wantStatus != http.StatusServiceUnavailable {
				return
			}
			if got := rec.Header().Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After %q, want 1", got)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] != "temporarily_unavailable" {
				t.Errorf("body %q, want a temporarily_unavailable error", rec.Body)
			}
		})
	}

	close(release)
	done.Wait()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/other", nil))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("after the slow requests finished: status %d, want 204 (slots must be released)", rec.Code)
	}
}

func TestDeadline(t *testing.T) {
	var got time.Time
	var ok bool
	h := httpx.Deadline(10 * time.Second)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got, ok = r.Context().Deadline()
	}))
	before := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if !ok {
		t.Fatal("the request context has no deadline: a stuck database call could hold the request forever")
	}
	if d := got.Sub(before); d <= 0 || d > 11*time.Second {
		t.Fatalf("deadline %s after the request started, want about 10s", d)
	}
}
