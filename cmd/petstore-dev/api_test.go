package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/petstore"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// TestDevAPIBuiltLikePetstoreAPI: petstore-dev builds the API with
// petstore.NewServer, as petstore-api does, so it has the request id, the
// one error shape and the refused-credential limit per address (before,
// it mounted the bare router without them).
func TestDevAPIBuiltLikePetstoreAPI(t *testing.T) {
	s, err := start(context.Background(), options{AuthAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", DemoAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), Web: webtest.Files(), AccessTokenLifespan: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.stop() })

	get := func() (*http.Response, map[string]string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.APIURL+"/v1/pets", nil)
		req.Header.Set("Authorization", "Bearer junk")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return res, body
	}
	res, body := get()
	if res.StatusCode != http.StatusUnauthorized || body["error"] != "unauthorized" || body["error_description"] == "" {
		t.Fatalf("junk token: %d %v, want 401 in the one error shape", res.StatusCode, body)
	}
	if res.Header.Get("X-Request-ID") == "" {
		t.Fatal("no X-Request-ID: the API runs without the access-log middleware")
	}
	for range petstore.DefaultFailedPerIPPerMinute {
		res, body = get()
	}
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || body["error"] != "rate_limited" {
		t.Fatalf("after %d refused credentials: %d %v, want 429 rate_limited with Retry-After", petstore.DefaultFailedPerIPPerMinute+1, res.StatusCode, body)
	}
}
