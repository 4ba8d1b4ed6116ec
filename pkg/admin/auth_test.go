package admin_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/admin"
)

type route struct{ method, path string }

// apiRoutes walks the router and returns every API route (path template,
// method).
func apiRoutes(t *testing.T, r *mux.Router) []route {
	t.Helper()
	var out []route
	err := r.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := rt.GetPathTemplate()
		if err != nil || !strings.HasPrefix(tpl, admin.APIPrefix+"/") {
			return nil
		}
		methods, err := rt.GetMethods()
		if err != nil {
			return nil // a subrouter, not an endpoint
		}
		for _, m := range methods {
			out = append(out, route{m, tpl})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

// TestEveryRouteRefusesBadCredentials walks the router and sends each API
// route every kind of bad credential. Nothing may change and no data may
// leak: the answer is the JSON error only.
func TestEveryRouteRefusesBadCredentials(t *testing.T) {
	e := newEnv(t)
	e.mustClient("victim-app")
	before := len(e.audit())

	type attempt struct {
		name       string
		header     []string // Authorization header values
		wantStatus int
		wantError  string
	}
	attempts := []attempt{
		{"no credential", nil, 401, "unauthorized"},
		{"empty header", []string{""}, 401, "unauthorized"},
		{"basic scheme", []string{"Basic " + "YWRtaW46YWRtaW4="}, 401, "unauthorized"},
		{"bearer without credential", []string{"Bearer"}, 401, "unauthorized"},
		{"bearer with blank credential", []string{"Bearer    "}, 401, "unauthorized"},
		{"two credentials", []string{"Bearer " + credClient + " " + credClient}, 401, "unauthorized"},
		{"two headers", []string{"Bearer " + credClient, "Bearer " + credClient}, 401, "unauthorized"},
		{"unknown credential", []string{"Bearer sk_test_doesnotexist"}, 401, "unauthorized"},
		{"token without admin scope", []string{"Bearer " + credNoScope}, 403, "forbidden"},
		{"admin-scoped key of a non-admin user", []string{"Bearer " + credUserKey}, 403, "forbidden"},
		{"admin-scoped key of a disabled admin", []string{"Bearer " + credDisabledKey}, 403, "forbidden"},
		{"admin-scoped key of a deleted user", []string{"Bearer " + credOrphanKey}, 403, "forbidden"},
	}
	routes := apiRoutes(t, e.router)
	if len(routes) < 20 {
		t.Fatalf("walked only %d API routes; is the router mounted?", len(routes))
	}
	checked := 0
	for _, rt := range routes {
		if rt.path == admin.APIPrefix+"/openapi.json" {
			continue // public by design; see TestOpenAPIDocumentIsPublic
		}
		path := strings.ReplaceAll(rt.path, "{id}", "victim-app")
		for _, a := range attempts {
			t.Run(rt.method+" "+rt.path+"/"+a.name, func(t *testing.T) {
				r := httptest.NewRequest(rt.method, path, strings.NewReader(`{"name":"x"}`))
				r.Header.Set("Content-Type", "application/json")
				for _, v := range a.header {
					r.Header.Add("Authorization", v)
				}
				res := e.serve(r).want(t, a.wantStatus)
				if got := res.json["error"]; got != a.wantError {
					t.Errorf("error = %v, want %q", got, a.wantError)
				}
				if len(res.json) != 2 {
					t.Errorf("body has fields beyond error and error_description: %v", res.json)
				}
				if !strings.HasPrefix(res.Header().Get("WWW-Authenticate"), "Bearer ") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", res.Header().Get("WWW-Authenticate"))
				}
			})
			checked++
		}
	}
	if _, err := e.st.ClientByID(t.Context(), "victim-app"); err != nil {
		t.Errorf("the client was touched by refused requests: %v", err)
	}
	// Only the 403s (authenticated, not allowed) are audited: one each.
	denied := 0
	for _, ev := range e.audit()[before:] {
		if ev.Type != "admin.access_denied" || ev.Outcome != "failure" {
			t.Errorf("unexpected audit event %s/%s after refused requests", ev.Type, ev.Outcome)
		}
		denied++
	}
	if want := checked / len(attempts) * 4; denied != want {
		t.Errorf("%d access_denied events, want %d (one per 403)", denied, want)
	}
}

// TestAdminCredentialsAreAccepted: each kind of admin credential gets in.
func TestAdminCredentialsAreAccepted(t *testing.T) {
	e := newEnv(t)
	for _, cred := range []string{credClient, credAdminKey, credAdminToken} {
		t.Run(cred, func(t *testing.T) {
			res := e.do("GET", admin.APIPrefix+"/users", cred, nil).want(t, 200)
			if res.json["total"] != float64(3) {
				t.Errorf("total = %v, want 3 users", res.json["total"])
			}
		})
	}
}

func TestOpenAPIDocumentIsPublic(t *testing.T) {
	e := newEnv(t)
	res := e.do("GET", admin.APIPrefix+"/openapi.json", "", nil).want(t, 200)
	if res.json["openapi"] != "3.0.3" {
		t.Errorf("openapi = %v", res.json["openapi"])
	}
}

// TestOpenAPIMatchesRouter checks the document's structure, that it
// describes exactly the routes the router serves (both ways), and that the
// checked-in copy is identical.
func TestOpenAPIMatchesRouter(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Info    struct{ Title, Version string }       `json:"info"`
		Servers []struct{ URL string }                `json:"servers"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
		Comps   map[string]map[string]json.RawMessage `json:"components"`
	}
	var loose map[string]json.RawMessage
	if err := json.Unmarshal(admin.OpenAPI, &loose); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if err := json.Unmarshal(admin.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("not an OpenAPI 3.0 document: openapi=%q info=%+v", doc.OpenAPI, doc.Info)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != admin.APIPrefix {
		t.Fatalf("servers = %+v, want one with url %s", doc.Servers, admin.APIPrefix)
	}
	for _, k := range []string{"openapi", "info", "paths", "components"} {
		if _, ok := loose[k]; !ok {
			t.Errorf("document lacks %q", k)
		}
	}

	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	var documented []route
	opIDs := map[string]bool{}
	for p, item := range doc.Paths {
		for k, raw := range item {
			if k == "parameters" {
				continue
			}
			if !slices.Contains(methods, k) {
				t.Errorf("path %s has unknown key %q", p, k)
				continue
			}
			var op struct {
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s %s: %v", k, p, err)
			}
			if op.OperationID == "" || opIDs[op.OperationID] {
				t.Errorf("%s %s: missing or duplicate operationId %q", k, p, op.OperationID)
			}
			opIDs[op.OperationID] = true
			if len(op.Responses) == 0 {
				t.Errorf("%s %s: no responses", k, p)
			}
			documented = append(documented, route{strings.ToUpper(k), admin.APIPrefix + p})
		}
	}
	sort.Slice(documented, func(i, j int) bool {
		return documented[i].path+documented[i].method < documented[j].path+documented[j].method
	})
	served := apiRoutes(t, newEnv(t).router)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s %s is served but not documented", r.method, r.path)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("operation %s %s is documented but not served", r.method, r.path)
		}
	}

	// Every $ref points at something that exists.
	var all any
	_ = json.Unmarshal(admin.OpenAPI, &all)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
				if len(parts) != 2 || doc.Comps[parts[0]][parts[1]] == nil {
					t.Errorf("dangling $ref %s", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(all)

	copyOnDisk, err := os.ReadFile("../../docs/admin-openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(copyOnDisk, admin.OpenAPI) {
		t.Error("docs/admin-openapi.json differs from pkg/admin/openapi.json; copy it over")
	}
}
