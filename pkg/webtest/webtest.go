// Package webtest helps tests drive the HTML pages as a browser would:
// the embedded web files every test renders from (Files), a Browser with a
// cookie jar, and the hidden fields (CSRF token, return_to) of a form. It
// starts no server (pkg/servertest does), so the page packages' own tests
// may use it.
package webtest

import (
	"html"
	"net/url"
	"regexp"
)

var (
	hiddenRe = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
	nameRe   = regexp.MustCompile(`name="([^"]*)"`)
	valueRe  = regexp.MustCompile(`value="([^"]*)"`)
)

// Hidden returns the hidden inputs of a page, unescaped.
func Hidden(body string) url.Values {
	v := url.Values{}
	for _, in := range hiddenRe.FindAllString(body, -1) {
		n, val := nameRe.FindStringSubmatch(in), valueRe.FindStringSubmatch(in)
		if n != nil && val != nil {
			v.Set(n[1], html.UnescapeString(val[1]))
		}
	}
	return v
}
