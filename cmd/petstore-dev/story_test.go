package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

var screenshots = flag.Bool("screenshots", false, "write the guided-tour screenshots to docs/screenshots")

// TestQuickstartStory is the whole story in a real browser against the
// stack as the quickstart starts it: open MyApp → Connect → sign in →
// consent → pets listed → add a pet → the access token expires → MyApp
// refreshes transparently → Disconnect → the token is dead at the API.
func TestQuickstartStory(t *testing.T) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/run installs it")
		}
		t.Skip("chromium not installed")
	}
	var (
		mu        sync.Mutex
		lastToken string
	)
	ctx := context.Background()
	s, err := start(ctx, options{AuthAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", DemoAddr: "127.0.0.1:0", DataDir: t.TempDir(),
		AccessTokenLifespan: 3 * time.Second, APICacheTTL: time.Second, Web: webtest.Files(),
		observeAPI: func(r *http.Request) {
			if a := r.Header.Get("Authorization"); a != "" {
				mu.Lock()
				lastToken = a
				mu.Unlock()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	bctx, cancelT := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelT()
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			loc, _ := chromedp.Run(bctx, chromedp.Location())
			t.Fatalf("%s: %v (at %s)", name, err, loc)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// waitText waits until the element's text contains want (pages change
	// after a click: an element from the old page may still be visible).
	waitText := func(sel, want string) string {
		t.Helper()
		var got string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			got, _ = chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
			if strings.Contains(got, want) {
				return got
			}
		}
		t.Fatalf("%s never showed %q; it shows %.300q", sel, want, got)
		return got
	}
	shot := func(name string) {
		if !*screenshots {
			return
		}
		buf, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", "tour-"+name+".png"), buf, 0o644)
	}

	step("open MyApp", chromedp.Navigate(s.DemoURL), chromedp.WaitVisible(chromedp.CSS(`a.ps-button`)))
	shot("1-myapp")
	step("connect", chromedp.Click(chromedp.CSS(`a.ps-button`)), chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)))
	shot("2-login")
	step("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), demoEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), s.Secrets.DemoPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value="allow"]`)))
	shot("3-consent")
	step("allow", chromedp.Click(chromedp.CSS(`button[value="allow"]`)), chromedp.WaitVisible(chromedp.CSS(`li.pet`)))
	if pets := text(`ul.pet-grid`); !strings.Contains(pets, "Biscuit") || !strings.Contains(pets, "Miso") {
		t.Fatalf("the seeded pets are not listed: %q", pets)
	}
	step("add a pet",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Pixel"),
		chromedp.SendKeys(chromedp.CSS(`input[name="species"]`), "cat"),
		chromedp.Click(chromedp.CSS(`form[action="/pets"] button[type="submit"]`)))
	waitText(`ul.pet-grid`, "Pixel")
	shot("4-pets")
	mu.Lock()
	before := lastToken
	mu.Unlock()

	time.Sleep(4 * time.Second) // the 3 s access token expires
	step("reload after expiry", chromedp.Navigate(s.DemoURL), chromedp.WaitVisible(chromedp.CSS(`li.pet`)))
	if pets := text(`ul.pet-grid`); !strings.Contains(pets, "Pixel") {
		t.Fatalf("after the access token expired MyApp lost the pets: %q", pets)
	}
	mu.Lock()
	after := lastToken
	mu.Unlock()
	if after == before || after == "" {
		t.Fatal("MyApp called the API with the expired token instead of refreshing")
	}
	events, _, err := s.auth.Audit.ListAudit(ctx, identity.AuditFilter{Type: "token.issued"})
	if err != nil {
		t.Fatal(err)
	}
	refreshed := 0
	for _, e := range events {
		if e.Details["grant_type"] == "refresh_token" && e.ClientID == demoClientID {
			refreshed++
		}
	}
	if refreshed == 0 {
		t.Fatal("no refresh_token grant was recorded: MyApp did not refresh")
	}

	step("open the account page", chromedp.Navigate(s.AuthURL+"/account"), chromedp.WaitVisible(chromedp.CSS(`form[action^="/account/grants/"]`)))
	shot("5-account")
	step("disconnect", chromedp.Navigate(s.DemoURL), chromedp.WaitVisible(chromedp.CSS(`form[action="/disconnect"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/disconnect"] button`)))
	waitText(`body`, "Disconnected")
	// The token MyApp last used is dead at the API (after its 1 s cache).
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, s.APIURL+"/v1/pets", nil)
		req.Header.Set("Authorization", after)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API still answers %d to MyApp's token after Disconnect", res.StatusCode)
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Fprintln(os.Stderr, "story complete")
}
