package ui

import (
	"context"
	"crypto/subtle"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
)

// MaxFormBytes bounds the body of a page form.
const MaxFormBytes = 64 << 10

// CSRFField is the name of the hidden form field carrying the CSRF token.
const CSRFField = "csrf_token"

// Pages sets the security headers of HTML pages and puts the session into
// the request context, starting an anonymous one (with a CSRF token, so the
// login form can be protected too) when there is none.
func (k *Kit) Pages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w.Header())
		s, fresh := k.load(r)
		if fresh {
			if err := k.save(w, r, s); err != nil {
				httpx.Logger(r.Context()).Error("save session", "err", err)
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

// Protect refuses unsafe requests (POST, …) that come from another origin
// (Sec-Fetch-Site / Origin, Go's CrossOriginProtection) or that do not
// carry the session's CSRF token in the csrf_token form field. It must sit
// inside Pages. Safe methods pass untouched.
func (k *Kit) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if err := k.cop.Check(r); err != nil {
			k.Error(w, r, http.StatusForbidden, "Request refused",
				"This form was sent from another website, so we did not act on it.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
		if err := r.ParseForm(); err != nil {
			k.Error(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return
		}
		s := SessionFrom(r.Context())
		got := r.PostForm.Get(CSRFField)
		if s == nil || s.CSRF == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
			k.Error(w, r, http.StatusForbidden, "Your session has expired",
				"For your security this form can only be sent once from the page that showed it. Go back, reload the page and try again.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Static serves the files under static/ (except the demo app's): no
// directory listings, long caching for URLs carrying the content hash that
// the asset template function adds.
func (k *Kit) Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.URL.Path, "/static")), "/")
		if name == "" || name == "." || strings.HasPrefix(name, "demo/") || !fs.ValidPath(name) {
			http.NotFound(w, r)
			return
		}
		f, err := k.static.Open(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		rs, ok := f.(io.ReadSeeker)
		if !ok {
			b, err := io.ReadAll(f)
			if err != nil {
				http.Error(w, "read error", http.StatusInternalServerError)
				return
			}
			rs = strings.NewReader(string(b))
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'")
		if hash, ok := k.assets[name]; ok {
			h.Set("ETag", `"`+hash+`"`)
		}
		if v := r.URL.Query().Get("v"); v != "" && v == k.assets[name] {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		http.ServeContent(w, r, name, time.Time{}, rs)
	})
}
