package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// deviceRequest starts RFC 8628 §3.1 as a TV app would.
func deviceRequest(t *testing.T, base, client string) (deviceCode, userCode string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/device/auth", strings.NewReader(url.Values{"client_id": {client}, "scope": {"read:pets offline_access"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "PetTV/2.1 (living room)")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	deviceCode, _ = m["device_code"].(string)
	userCode, _ = m["user_code"].(string)
	if res.StatusCode != http.StatusOK || deviceCode == "" || userCode == "" {
		t.Fatalf("device authorization: %d %v", res.StatusCode, m)
	}
	return deviceCode, userCode
}

func devicePoll(t *testing.T, base, client, deviceCode string) (int, map[string]any) {
	t.Helper()
	res, err := http.PostForm(base+"/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id": {client}, "device_code": {deviceCode}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// screenshot saves the page at width px when PETSTORE_SCREENSHOT_DIR is
// set (a look at the layout, not an assertion).
func screenshot(ctx context.Context, t *testing.T, name string, width int64) {
	dir := os.Getenv("PETSTORE_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 844)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, name), png, 0o644)
	_ = chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
}

// TestBrowserDeviceFlow: a TV app asks for a device code; the user opens
// /device, types the code in lower case with a space, signs in, sees the
// app, the device and the scopes, allows; the TV's next poll gets access
// and refresh tokens. A second request that the user denies gets
// access_denied.
func TestBrowserDeviceFlow(t *testing.T) {
	ctx := chrome(t)
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	tv := createClient(t, "--name", "Pet TV", "--public", "--grant-type", "device_code", "--grant-type", "refresh_token",
		"--scope", "read:pets offline_access")
	if out, err := cli(t, "correct horse battery\n", "user", "create", "--email", "alice@example.com", "--password-stdin"); err != nil {
		t.Fatal(out, err)
	}
	_, ts := startServer(t)
	deviceCode, userCode := deviceRequest(t, ts.URL, tv.ClientID)
	// No poll before the decision: the first poll after it then cannot
	// be slow_down, whatever the browser's pace (pending and slow_down are
	// TestDeviceGrant's, on a test clock).
	typed := strings.ToLower(strings.Replace(userCode, "-", " ", 1))
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/device"),
		chromedp.WaitVisible(chromedp.CSS(`#user_code`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(ctx, t, "device-enter-1280.png", 1280)
	screenshot(ctx, t, "device-enter-390.png", 390)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#user_code`), typed),
		chromedp.Click(chromedp.CSS(`#device-continue`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "alice@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#device-allow`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Pet TV", "PetTV/2.1 (living room)", "127.0.0.1", userCode, "View your pets"} {
		if !strings.Contains(text, want) {
			t.Errorf("the confirmation page does not show %q:\n%s", want, text)
		}
	}
	screenshot(ctx, t, "device-confirm-1280.png", 1280)
	screenshot(ctx, t, "device-confirm-390.png", 390)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#device-allow`)), chromedp.WaitVisible(chromedp.CSS(`#device-done`))); err != nil {
		t.Fatal(err)
	}
	screenshot(ctx, t, "device-done-1280.png", 1280)
	screenshot(ctx, t, "device-done-390.png", 390)
	status, tok := devicePoll(t, ts.URL, tv.ClientID, deviceCode)
	if status != http.StatusOK || tok["access_token"] == nil || tok["refresh_token"] == nil {
		t.Fatalf("poll after approval: %d %v", status, tok)
	}

	// Denial, signed in already: straight to the confirmation.
	deviceCode, userCode = deviceRequest(t, ts.URL, tv.ClientID)
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/device?user_code="+url.QueryEscape(userCode)),
		chromedp.WaitVisible(chromedp.CSS(`#device-deny`)),
		chromedp.Click(chromedp.CSS(`#device-deny`)),
		chromedp.WaitVisible(chromedp.CSS(`#device-done`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if status, m := devicePoll(t, ts.URL, tv.ClientID, deviceCode); status != http.StatusBadRequest || m["error"] != "access_denied" {
		t.Fatalf("poll after denial: %d %v", status, m)
	}
}
