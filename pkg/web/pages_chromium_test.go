package web

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/petstore-auth/petstore-auth/pkg/binarytest"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// overflowJS lists what sticks out to the right of the viewport.
const overflowJS = `(() => {
	if (document.documentElement.scrollWidth <= window.innerWidth + 1) return [];
	const out = [];
	for (const el of document.querySelectorAll('body *')) {
		const r = el.getBoundingClientRect();
		if (r.right > window.innerWidth + 1) out.push(el.tagName.toLowerCase() + '.' + String(el.className) + ' right=' + Math.round(r.right));
	}
	return out.slice(0, 8);
})()`

// The pages this branch adds or changes, in Chromium at 1280 and 390 px:
// the consent page with identity scopes grouped first, the select_account
// page and the account page's session list. Each fits a phone's width and
// shows what it must; PETSTORE_SCREENSHOTS=dir writes their screenshots
// there to look at.
func TestOIDCPagesInChromium(t *testing.T) {
	path := binarytest.Tool(t, "chromium")
	e := newEnv(t)
	// A second browser, so the account page lists two sessions.
	other := e.browser()
	other.Post("/login", url.Values{"email": {"alice@example.com"}, "password": {alicePass}, "csrf_token": {other.Get("/login").CSRF(t)}},
		"User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelT()
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func(name string, wants ...string) {
		t.Helper()
		body := text("main")
		for _, w := range wants {
			if !strings.Contains(strings.ToLower(body), strings.ToLower(w)) { // innerText applies text-transform
				t.Errorf("%s: lacks %q: %.600q", name, w, body)
			}
		}
		for _, size := range []struct {
			suffix string
			w, h   int64
		}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
			do(chromedp.EmulateViewport(size.w, size.h))
			out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflowJS))
			if err != nil {
				t.Fatal(err)
			}
			if len(out) > 0 {
				t.Errorf("%s at %d px: sticking out: %v", name, size.w, out)
			}
			if dir := os.Getenv("PETSTORE_SCREENSHOTS"); dir != "" {
				png, err := chromedp.Run(ctx, screenshot(size.w))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name+"-"+size.suffix+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	do(chromedp.Navigate(e.srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "alice@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), alicePass),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#sessions`)))
	check("account-sessions", "Where you’re signed in", "This device", "Safari on iPhone", "Sign out everywhere")

	do(chromedp.Navigate(e.srv.URL+authPathFor(oidcScope+" offline_access")), chromedp.WaitVisible(chromedp.CSS(`.scope-group`)))
	check("consent-identity", "Know your name and email address", "Know your email address", "View your pets")
	if first, want := text(".scopes .scope-title"), mustScope(t, "openid").Title; first != want {
		t.Errorf("first scope on the consent page is %q, want the identity group first", first)
	}

	do(chromedp.Navigate(e.srv.URL+authPathFor(oidcScope, "prompt", "select_account")), chromedp.WaitVisible(chromedp.CSS(`.account-choice`)))
	check("select-account", "Continue as alice@example.com", "Not you?")
}

// screenshot captures the whole page height at width.
func screenshot(width int64) chromedp.Action[[]byte] {
	return func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		h, err := chromedp.Evaluate[float64](`document.documentElement.scrollHeight`)(ctx, t)
		if err != nil {
			return nil, err
		}
		r, err := cdp.Call(ctx, t, cdppage.CaptureScreenshot, cdppage.CaptureScreenshotParams{
			Format: cdppage.CaptureScreenshotFormatPng, CaptureBeyondViewport: new(true),
			Clip: &cdppage.Viewport{Width: float64(width), Height: h, Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}
}

func mustScope(t *testing.T, name string) identity.ScopeInfo {
	t.Helper()
	info, ok := identity.LookupScope(name)
	if !ok {
		t.Fatalf("scope %s unknown", name)
	}
	return info
}
