package bearer

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestErrorBodiesGolden pins every answer to a refused credential
// (testdata/golden/*.json; go test -update rewrites them): one JSON shape,
// {"error": code, "error_description": message}, and for every cause of an
// invalid credential the same bytes.
func TestErrorBodiesGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		write  func(http.ResponseWriter)
		status int
	}{
		{"missing-credential", func(w http.ResponseWriter) { WriteError(w, ErrMissing) }, 401},
		{"invalid-token", func(w http.ResponseWriter) { WriteError(w, ErrInvalid) }, 401},
		{"bad-request", func(w http.ResponseWriter) { WriteError(w, ErrBadRequest) }, 400},
		{"unavailable", func(w http.ResponseWriter) { WriteError(w, errors.New("introspection: connection refused")) }, 503},
		{"insufficient-scope", func(w http.ResponseWriter) { writeInsufficientScope(w, "write:pets", "") }, 403},
		{"wrong-audience", func(w http.ResponseWriter) { WriteError(w, ErrAudience) }, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.write(rec)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if got, want := rec.Body.String(), golden(t, tc.name, rec.Body.String()); got != want {
				t.Fatalf("body %s, want %s (testdata/golden/%s.json)", got, want, tc.name)
			}
		})
	}
}
