package servertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Response is an HTTP answer as a test sees it: the body read and, when it
// is a JSON object, decoded.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Str is the string member k of the JSON answer ("" when absent).
func (r Response) Str(k string) string { s, _ := r.JSON[k].(string); return s }

// PostForm posts form to u the way an OAuth client does (RFC 6749 §2.3.1):
// as c with HTTP Basic (each part form-encoded) when c has a secret, with
// client_id in the body when c is public, without credentials when c is
// zero. hc nil is http.DefaultClient; a transport error fails the test.
func PostForm(tb testing.TB, hc *http.Client, u string, c Client, form url.Values) Response {
	tb.Helper()
	if form == nil {
		form = url.Values{}
	}
	if c.ID != "" && c.Secret == "" {
		form.Set("client_id", c.ID)
	}
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.Secret != "" {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	return Do(tb, hc, req)
}

// Do sends req with hc (nil: http.DefaultClient) and reads the answer.
func Do(tb testing.TB, hc *http.Client, req *http.Request) Response {
	tb.Helper()
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	out := Response{Status: res.StatusCode, Header: res.Header, Body: body}
	_ = json.Unmarshal(body, &out.JSON)
	return out
}
