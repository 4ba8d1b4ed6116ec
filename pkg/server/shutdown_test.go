package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// TestShutdownRecordsAPIKeyUse: an API key's first use, held in memory to
// be written with the next batch, is in the database once the server has
// stopped — the batch is written before the database is closed.
func TestShutdownRecordsAPIKeyUse(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		var closers []func()
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, Cleanup: func(f func()) { closers = append(closers, f) }})
		stop := func() {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
			closers = nil
		}
		defer stop()
		rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
		u := s.MustUser(t, "keys@example.com", "correct horse battery")
		key, k := s.MustAPIKey(t, u.ID, "test", "ci", "read:pets")
		res := servertest.PostForm(t, nil, s.URL+"/oauth2/introspect", rs, url.Values{"token": {key}})
		if res.Status != http.StatusOK || res.JSON["active"] != true {
			t.Fatalf("introspect the key: %d %v", res.Status, res.JSON)
		}
		stop()

		st, err := store.Open(context.Background(), dbURL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		got, err := st.APIKeyByID(context.Background(), k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastUsedAt == nil {
			t.Error("the key's use before shutdown was not recorded")
		}
	})
}

// TestClientHangUpIsNotAServerError: a token request whose client went
// away before the answer (its context cancelled, as net/http does when
// the connection closes) is recorded as 499, not as a 500 with an ERROR
// line — at any point of the request.
func TestClientHangUpIsNotAServerError(t *testing.T) {
	s := servertest.MustOpen(t, servertest.Options{})
	c := s.MustClient(t, identity.Client{Name: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read:pets"}})
	for _, name := range []string{"before the handler", "while it runs"} {
		ctx, cancel := context.WithCancel(context.Background())
		if name == "before the handler" {
			cancel()
		}
		req := httptest.NewRequest(http.MethodPost, s.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials&scope=read:pets")).WithContext(ctx)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ID, c.Secret)
		rec := httptest.NewRecorder()
		if name == "while it runs" {
			// cancelled once the handler has read the form
			req.Body = &cancelOnEOF{r: req.Body, cancel: cancel}
		}
		s.Handler.ServeHTTP(rec, req)
		cancel()
		if rec.Code != 499 && rec.Code != http.StatusOK {
			t.Errorf("%s: status %d, want 499 (or 200 when the answer was ready before the hang-up)", name, rec.Code)
		}
	}
	if strings.Contains(s.Logs.String(), "level=ERROR") {
		t.Errorf("a client hang-up was logged as an error:\n%s", s.Logs.String())
	}
}

// cancelOnEOF cancels its request's context when the body has been read.
type cancelOnEOF struct {
	r      io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.EOF) {
		c.cancel()
	}
	return n, err
}

func (c *cancelOnEOF) Close() error { return c.r.Close() }
