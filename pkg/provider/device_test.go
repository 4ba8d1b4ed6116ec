package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// addDeviceClient registers a public client of the device grant (a TV app
// or a CLI) that may refresh.
func (f *fixture) addDeviceClient(id string) {
	f.t.Helper()
	c := &identity.Client{ID: id, Name: "Pet TV " + id, Public: true, GrantTypes: []string{identity.GrantDeviceCode, identity.GrantRefreshToken},
		Scopes: []string{"read:pets", "offline_access"}, TokenFormat: "opaque"}
	if err := c.Validate(); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.CreateClient(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
}

// postPublic posts form for a public client (client_id in the body).
func (f *fixture) postPublic(path string, form url.Values) (int, map[string]any) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "PetTV/2.1 (living room)")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func (f *fixture) deviceAuth(client, scope string) map[string]any {
	f.t.Helper()
	status, m := f.postPublic("/oauth2/device/auth", url.Values{"client_id": {client}, "scope": {scope}})
	if status != http.StatusOK {
		f.t.Fatalf("device authorization: %d %v", status, m)
	}
	return m
}

func (f *fixture) poll(client, deviceCode string) (int, map[string]any) {
	return f.postPublic("/oauth2/token", url.Values{"grant_type": {identity.GrantDeviceCode}, "client_id": {client}, "device_code": {deviceCode}})
}

func wantPollError(t *testing.T, status int, m map[string]any, code string) {
	t.Helper()
	if status != http.StatusBadRequest || m["error"] != code {
		t.Fatalf("poll: %d %v; want 400 %s", status, m, code)
	}
}

// TestDeviceGrant is RFC 8628 end to end at the protocol level (the
// browser part is pkg/web's TestDeviceFlowInBrowser): the answer of the
// device authorization endpoint, authorization_pending, slow_down raising
// the interval (persisted), approval giving access and refresh tokens
// once, another client's device_code refused without touching it; then
// denial (access_denied) and expiry (expired_token, test clock).
func TestDeviceGrant(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		f.addDeviceClient("tv")
		f.addDeviceClient("other-tv")
		ctx := context.Background()
		m := f.deviceAuth("tv", "read:pets offline_access")
		dc, uc := str(m, "device_code"), str(m, "user_code")
		if !strings.HasPrefix(dc, "pst_dc_") || len(uc) != 9 || uc[4] != '-' || m["interval"] != 5.0 || m["expires_in"] != 600.0 ||
			m["verification_uri"] != "https://auth.example/device" || m["verification_uri_complete"] != "https://auth.example/device?user_code="+uc {
			t.Fatalf("device authorization answer: %v", m)
		}
		for _, r := range strings.ReplaceAll(uc, "-", "") {
			if !strings.ContainsRune(identity.UserCodeAlphabet, r) {
				t.Fatalf("user code %q has %q, outside %s", uc, r, identity.UserCodeAlphabet)
			}
		}
		status, out := f.poll("tv", dc)
		wantPollError(t, status, out, "authorization_pending")
		status, out = f.poll("tv", dc) // at once: too fast
		wantPollError(t, status, out, "slow_down")
		f.advance(6 * time.Second) // more than 5 s, less than the raised 10 s
		status, out = f.poll("tv", dc)
		wantPollError(t, status, out, "slow_down")
		f.advance(16 * time.Second)
		status, out = f.poll("other-tv", dc)
		wantPollError(t, status, out, "invalid_grant")
		status, out = f.poll("tv", dc) // the other client's attempt counted nothing
		wantPollError(t, status, out, "authorization_pending")

		req, err := f.p.LookupUserCode(ctx, strings.ToLower(strings.ReplaceAll(uc, "-", " ")))
		if err != nil || req.ClientID != "tv" || req.DeviceUserAgent != "PetTV/2.1 (living room)" || req.DeviceAddress == "" {
			t.Fatalf("lookup of the typed code: %+v %v", req, err)
		}
		if err := f.p.DecideUserCode(ctx, uc, f.user.ID, f.grant.ID, []string{"read:pets", "offline_access"}, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.p.LookupUserCode(ctx, uc); err == nil {
			t.Fatal("a decided code can still be looked up")
		}
		f.advance(30 * time.Second)
		status, out = f.postPublic("/oauth2/token", url.Values{"grant_type": {identity.GrantDeviceCode}, "client_id": {"tv"}, "device_code": {dc}, "resource": {photosResource}})
		if status != http.StatusBadRequest || out["error"] != "invalid_target" {
			t.Fatalf("poll naming a resource the user was not shown: %d %v; want invalid_target", status, out)
		}
		f.advance(30 * time.Second)
		status, tok := f.poll("tv", dc) // the refused poll did not spend the code
		if status != http.StatusOK || str(tok, "access_token") == "" || str(tok, "refresh_token") == "" || tok["scope"] != "read:pets offline_access" {
			t.Fatalf("poll after approval: %d %v", status, tok)
		}
		res, body := f.post("/oauth2/introspect", f.rsID, f.rsSecret, url.Values{"token": {str(tok, "access_token")}})
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		if res.StatusCode != http.StatusOK || in["active"] != true || in["sub"] != f.user.ID || !strings.Contains(fmt.Sprint(in["aud"]), f.p.cfg.Resources.Default()) {
			t.Fatalf("the device's access token introspects %d %v; want active, the user's, for the default resource %s", res.StatusCode, in, f.p.cfg.Resources.Default())
		}
		f.advance(30 * time.Second)
		status, out = f.poll("tv", dc)
		wantPollError(t, status, out, "invalid_grant") // single use
		status, ref := f.postPublic("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"tv"}, "refresh_token": {str(tok, "refresh_token")}})
		if status != http.StatusOK || str(ref, "access_token") == "" {
			t.Fatalf("refresh of the device's token: %d %v", status, ref)
		}

		// Denial.
		m = f.deviceAuth("tv", "read:pets")
		if err := f.p.DecideUserCode(ctx, str(m, "user_code"), f.user.ID, "", nil, false); err != nil {
			t.Fatal(err)
		}
		status, out = f.poll("tv", str(m, "device_code"))
		wantPollError(t, status, out, "access_denied")

		// Expiry.
		m = f.deviceAuth("tv", "read:pets")
		f.advance(DeviceCodeLifespan + time.Second)
		if err := f.p.DecideUserCode(ctx, str(m, "user_code"), f.user.ID, f.grant.ID, []string{"read:pets"}, true); err == nil {
			t.Fatal("an expired code was approved")
		}
		status, out = f.poll("tv", str(m, "device_code"))
		wantPollError(t, status, out, "expired_token")
	})
}

// TestDeviceCodesStoredHashed: neither the device code nor the user code
// (in any spelling) appears anywhere in the database.
func TestDeviceCodesStoredHashed(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		f.addDeviceClient("tv")
		m := f.deviceAuth("tv", "read:pets")
		dc, uc := str(m, "device_code"), str(m, "user_code")
		rows, err := f.st.DB().Query("SELECT * FROM device_codes")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			n++
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := strings.ToUpper(toString(v))
				for _, secret := range []string{strings.ToUpper(dc), uc, strings.ReplaceAll(uc, "-", "")} {
					if secret != "" && strings.Contains(s, secret) {
						t.Fatalf("column %s holds a plain code: %q", cols[i], s)
					}
				}
			}
		}
		if n != 1 {
			t.Fatalf("%d device_codes rows; want 1", n)
		}
	})
}

func toString(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestDeviceAuthorizationRefusals: a client not registered for the device
// grant, an unknown client, a scope the client may not have, and a
// made-up device code are refused with the RFC 6749 / 8628 errors.
func TestDeviceAuthorizationRefusals(t *testing.T) {
	f := newFixture(t, "sqlite://"+t.TempDir()+"/d.db", "opaque")
	f.addDeviceClient("tv")
	for name, tc := range map[string]struct {
		form   url.Values
		status int
		code   string
	}{
		"client without the grant": {url.Values{"client_id": {"web"}}, 401, "invalid_client"}, // confidential, no secret
		"unknown client":           {url.Values{"client_id": {"nope"}}, 401, "invalid_client"},
		"scope not allowed":        {url.Values{"client_id": {"tv"}, "scope": {"admin"}}, 400, "invalid_scope"},
		"no client":                {url.Values{"scope": {"read:pets"}}, 401, "invalid_client"},
		"unknown resource":         {url.Values{"client_id": {"tv"}, "resource": {"https://unknown.example"}}, 400, "invalid_target"},
	} {
		status, m := f.postPublic("/oauth2/device/auth", tc.form)
		if status != tc.status || m["error"] != tc.code {
			t.Errorf("%s: %d %v; want %d %s", name, status, m, tc.status, tc.code)
		}
	}
	status, m := f.poll("tv", "pst_dc_made-up")
	wantPollError(t, status, m, "invalid_grant")
}
