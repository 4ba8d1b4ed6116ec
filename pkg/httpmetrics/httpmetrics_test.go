package httpmetrics

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Requests are counted by route template (never the raw path) and status.
func TestCountsByRouteTemplate(t *testing.T) {
	m := New("test")
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collectors()...)
	r := mux.NewRouter()
	r.Use(m.Middleware)
	r.HandleFunc("/v1/pets/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	for _, id := range []string{"pet_1", "pet_2", "pet_3"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/pets/"+id, nil))
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/v1/pets/{id}", "GET", "404")); got != 3 {
		t.Fatalf("counted %v requests under the route template, want 3", got)
	}
	if n := testutil.CollectAndCount(m.requests); n != 1 {
		t.Fatalf("%d series: raw paths leaked into the labels", n)
	}
}
