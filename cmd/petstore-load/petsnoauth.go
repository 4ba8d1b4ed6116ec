package main

import (
	"context"
	"net/http"
)

// petsNoAuth is the api-pets-noauth scenario: GET /v1/pets without any
// credential, the baseline the api-bearer rows are compared with. Only the
// benchmark build of petstore-api serves it (go build -tags
// petstore_bench_noauth, with PETSTORE_API_BENCH_NOAUTH_SUBJECT set); any
// other answers 401, counted as errors.
func petsNoAuth(o options) requestFunc {
	return func(ctx context.Context, c *http.Client) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.apiURL+"/v1/pets", nil)
		return do(c, req, nil)
	}
}
