package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/petstore-auth/petstore-auth/pkg/servertest"
)

// TestBrowserDeveloperApps: in Chromium, a signed-in user registers an app
// on /account/apps and copies its secret with the copy button; a reload
// does not show it again. The user rotates it with a one-day grace period:
// the old secret authenticates the app (at the revocation endpoint, which
// authenticates clients, RFC 7009 §2.1) during the grace period and not
// after it (test clock); the new one throughout.
func TestBrowserDeveloperApps(t *testing.T) {
	ctx := chrome(t)
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			now := time.Now().UTC()
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			srv := servertest.MustOpen(t, servertest.Options{DatabaseURL: db, Now: clock})
			srv.MustUser(t, name+"@example.com", "correct horse battery")
			base := srv.URL
			authenticates := func(id, secret string) bool {
				t.Helper()
				r := servertest.PostForm(t, nil, base+"/oauth2/revoke", servertest.Client{ID: id, Secret: secret}, url.Values{"token": {"x"}})
				if r.Status != http.StatusOK && r.Status != http.StatusUnauthorized {
					t.Fatalf("revoke: HTTP %d %s", r.Status, r.Body)
				}
				return r.Status == http.StatusOK
			}
			run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, actions...); err != nil {
					loc, _ := chromedp.Run(ctx, chromedp.Location())
					body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
					t.Fatalf("%s: %v (at %s): %.400s", what, err, loc, body)
				}
			}
			text := func(sel string) string {
				t.Helper()
				s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
				if err != nil {
					t.Fatal(err)
				}
				return strings.TrimSpace(s)
			}
			submit := chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))

			run("sign in", chromedp.Navigate(base+"/login?return_to=/account/apps"),
				chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), name+"@example.com"),
				chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse battery"),
				chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS(`a[href="/account/apps/new"]`)))
			run("register", chromedp.Click(chromedp.CSS(`a[href="/account/apps/new"]`)),
				chromedp.WaitVisible(chromedp.CSS(`#app-name`)),
				chromedp.SendKeys(chromedp.CSS(`#app-name`), "Pet Diary"),
				chromedp.SendKeys(chromedp.CSS(`#app-redirect-uris`), "https://diary.example/cb"),
				submit, chromedp.WaitVisible(chromedp.CSS(`#client-secret`)))
			id, old := text(`#client-id`), text(`#client-secret`)
			if !strings.HasPrefix(old, "pst_cs_") {
				t.Fatalf("the page shows %q as the secret", old)
			}
			// The copy button (static/app.js) copies exactly the secret.
			copied, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
				let got = "";
				navigator.clipboard.writeText = t => { got = t; return Promise.resolve(); };
				document.querySelector('[data-copy="client-secret"]').click();
				await new Promise(r => setTimeout(r, 50));
				return got + "|" + document.querySelector('.copy-status').textContent;
			})()`, chromedp.EvalAwaitPromise))
			if err != nil || copied != old+"|Copied to the clipboard." {
				t.Fatalf("copy button: %q, %v", copied, err)
			}
			run("reload the app's page", chromedp.Navigate(base+"/account/apps/"+id), chromedp.WaitVisible(chromedp.CSS(`a[href$="/rotate"]`)),
				chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`a[href$="/rotate"]`)))
			if page := text(`body`); strings.Contains(page, old) || strings.Contains(page, "pst_cs_") {
				t.Fatal("the secret is shown again after registration")
			}
			if !authenticates(id, old) {
				t.Fatal("the secret shown does not authenticate the app")
			}

			run("rotate with a one-day grace period", chromedp.Click(chromedp.CSS(`a[href$="/rotate"]`)),
				chromedp.WaitVisible(chromedp.CSS(`select#grace`)),
				chromedp.SetValue(chromedp.CSS(`select#grace`), "24h"),
				submit, chromedp.WaitVisible(chromedp.CSS(`#client-secret`)))
			fresh := text(`#client-secret`)
			if fresh == old || !strings.HasPrefix(fresh, "pst_cs_") {
				t.Fatalf("rotation showed %q", fresh)
			}
			if !authenticates(id, old) || !authenticates(id, fresh) {
				t.Fatal("during the grace period both secrets must authenticate the app")
			}
			mu.Lock()
			now = now.Add(24*time.Hour + time.Second)
			mu.Unlock()
			if authenticates(id, old) {
				t.Fatal("the old secret works after the grace period")
			}
			if !authenticates(id, fresh) {
				t.Fatal("the new secret does not work after the grace period")
			}
		})
	}
}
