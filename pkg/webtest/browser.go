package webtest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Page is what a browser shows: the last answer after the redirects it
// followed.
type Page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string // the Location header of a redirect it did not follow
	URL      string // where the answer came from
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// CSRF returns the CSRF token of the page's forms; the test fails when the
// page has none.
func (p Page) CSRF(tb testing.TB) string {
	tb.Helper()
	m := csrfRe.FindStringSubmatch(p.Body)
	if m == nil {
		tb.Fatalf("no CSRF token on the page (HTTP %d at %s):\n%.2000s", p.Status, p.URL, p.Body)
	}
	return m[1]
}

// Want fails the test unless the page has the status, showing the body.
func (p Page) Want(tb testing.TB, status int) Page {
	tb.Helper()
	if p.Status != status {
		tb.Fatalf("status %d, want %d; body:\n%.2000s", p.Status, status, p.Body)
	}
	return p
}

// Path is the path of the URL the answer came from.
func (p Page) Path() string {
	u, err := url.Parse(p.URL)
	if err != nil {
		return ""
	}
	return u.Path
}

// Hidden returns the hidden fields of the page's forms.
func (p Page) Hidden() url.Values { return Hidden(p.Body) }

// BrowserOptions say how a Browser behaves; the zero value is a fresh
// cookie jar that follows no redirect and sends forms without Origin.
type BrowserOptions struct {
	// Jar is shared with another browser (the same user in two tabs); nil
	// is a fresh jar.
	Jar http.CookieJar
	// Transport reaches the server (a TLS httptest server's Client()
	// transport); nil is http.DefaultTransport.
	Transport http.RoundTripper
	// Follow decides which redirects are followed; nil follows none.
	Follow func(*url.URL) bool
	// SameOrigin makes forms carry Origin and Sec-Fetch-Site: same-origin,
	// as a browser sends them from the server's own page.
	SameOrigin bool
}

// FollowWithin follows redirects to base and stops at any other site (a
// client's callback).
func FollowWithin(base string) func(*url.URL) bool {
	return func(u *url.URL) bool { return strings.HasPrefix(u.String(), base) }
}

// Browser is one user agent with a cookie jar, talking to the server at
// Base. Paths starting with "/" are resolved against Base.
type Browser struct {
	Base   string
	Client *http.Client
	tb     testing.TB
	same   bool
}

// NewBrowser returns a browser on base.
func NewBrowser(tb testing.TB, base string, o BrowserOptions) *Browser {
	jar := o.Jar
	if jar == nil {
		jar, _ = cookiejar.New(nil)
	}
	c := &http.Client{Jar: jar, Transport: o.Transport, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if o.Follow == nil || !o.Follow(req.URL) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return &Browser{Base: base, Client: c, tb: tb, same: o.SameOrigin}
}

// Jar is the browser's cookie jar.
func (b *Browser) Jar() http.CookieJar { return b.Client.Jar }

func (b *Browser) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return b.Base + u
	}
	return u
}

// Do sends req and reads the answer; a transport error fails the test.
func (b *Browser) Do(req *http.Request) Page {
	b.tb.Helper()
	res, err := b.Client.Do(req)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return Page{Status: res.StatusCode, Header: res.Header, Body: string(body), Location: res.Header.Get("Location"), URL: res.Request.URL.String()}
}

// Get loads a page.
func (b *Browser) Get(u string) Page {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodGet, b.abs(u), nil)
	if err != nil {
		b.tb.Fatal(err)
	}
	return b.Do(req)
}

// Post submits a form; headers are name, value pairs set last (a test's
// own Origin or Sec-Fetch-Site wins).
func (b *Browser) Post(u string, form url.Values, headers ...string) Page {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodPost, b.abs(u), strings.NewReader(form.Encode()))
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.same {
		req.Header.Set("Origin", b.Base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.Do(req)
}

// Submit posts the form of p to action: its hidden fields (CSRF token,
// return_to) with set's values on top.
func (b *Browser) Submit(p Page, action string, set url.Values) Page {
	b.tb.Helper()
	form := p.Hidden()
	for k, v := range set {
		form[k] = v
	}
	return b.Post(action, form)
}
