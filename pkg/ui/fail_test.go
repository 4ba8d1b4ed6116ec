package ui

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// TestFailUsesTheSharedStatusMap: the error page takes its status from the
// same code→status map as the JSON APIs, so a conflict is 409 on a page as
// in the API (the console answered 400), and an internal error shows no
// detail.
func TestFailUsesTheSharedStatusMap(t *testing.T) {
	k := newKit(t)
	for _, tc := range []struct {
		err        error
		status     int
		shows      string
		mustNotSee string
	}{
		{identity.Errorf(identity.ECONFLICT, "That email is taken."), http.StatusConflict, "That email is taken.", ""},
		{identity.Errorf(identity.EINVALID, "Name is required."), http.StatusBadRequest, "Name is required.", ""},
		{identity.Errorf(identity.ENOTFOUND, "No such client."), http.StatusNotFound, "No such client.", ""},
		{errors.New("pq: connection refused at 10.0.0.5"), http.StatusInternalServerError, "Something went wrong", "10.0.0.5"},
	} {
		rec := httptest.NewRecorder()
		k.Fail(rec, httptest.NewRequest(http.MethodPost, "/admin/users", nil), tc.err)
		body := rec.Body.String()
		if rec.Code != tc.status || !strings.Contains(body, tc.shows) || tc.mustNotSee != "" && strings.Contains(body, tc.mustNotSee) {
			t.Errorf("%v: %d %s; want %d showing %q", tc.err, rec.Code, body, tc.status, tc.shows)
		}
	}
}
