package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gorilla/mux"

	petstoreauth "github.com/petstore-auth/petstore-auth"
	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/demo"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/petstore"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
	"github.com/petstore-auth/petstore-auth/pkg/server"
)

// Demo identities, fixed so that the README can name them.
const (
	demoEmail    = "demo@petstore.local"
	adminEmail   = "admin@petstore.local"
	demoClientID = "myapp"
	apiClientID  = "petstore-api"
	// deviceClientID is the public device-grant client ("Pet TV").
	deviceClientID = "pet-tv"
)

type options struct {
	AuthAddr, APIAddr, DemoAddr string
	DataDir                     string
	AccessTokenLifespan         time.Duration
	Logger                      *slog.Logger
	// Web holds templates/ and static/; nil means the embedded files.
	Web fs.FS
	// APICacheTTL bounds how long the API trusts a cached introspection
	// answer (default 30 s); tests shorten it.
	APICacheTTL time.Duration
	// observeAPI, when set, sees every request to the API (tests).
	observeAPI func(*http.Request)
}

// secrets are generated once and kept in DataDir/dev-secrets.json (0600), so
// that a second run reuses the same demo logins, client secrets and key.
type secrets struct {
	DemoPassword  string `json:"demo_password"`
	AdminPassword string `json:"admin_password"`
	MyAppSecret   string `json:"myapp_client_secret"`
	APISecret     string `json:"api_client_secret"`
	APIKey        string `json:"api_key"`
}

// stack is the three running programs.
type stack struct {
	AuthURL, APIURL, DemoURL string
	Secrets                  secrets
	DataDir                  string

	auth    *server.Server
	servers []*http.Server
	cleanup []func()
	wg      sync.WaitGroup
	errc    chan error
}

// start listens on the three addresses (":0" picks a free port), seeds the
// data and serves until stop.
func start(ctx context.Context, o options) (*stack, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Web == nil {
		o.Web = petstoreauth.Web
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, err
	}
	s := &stack{DataDir: o.DataDir, errc: make(chan error, 3)}
	var lns []net.Listener
	for _, addr := range []string{o.AuthAddr, o.APIAddr, o.DemoAddr} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s: %w (is another copy running? pick other ports with -auth-addr/-api-addr/-demo-addr)", addr, err)
		}
		lns = append(lns, ln)
	}
	s.AuthURL, s.APIURL, s.DemoURL = "http://"+lns[0].Addr().String(), "http://"+lns[1].Addr().String(), "http://"+lns[2].Addr().String()
	fail := func(err error) (*stack, error) {
		for _, l := range lns {
			l.Close()
		}
		s.stop()
		return nil, err
	}

	var err error
	if s.Secrets, err = loadSecrets(filepath.Join(o.DataDir, "dev-secrets.json")); err != nil {
		return fail(err)
	}

	// 1. The authorization server.
	cfg, err := config.Load(filepath.Join("config", "petstore-auth.yaml"), true, nil)
	if err != nil {
		return fail(err)
	}
	cfg.Dev, cfg.Issuer, cfg.Listen, cfg.DataDir = true, s.AuthURL, lns[0].Addr().String(), o.DataDir
	cfg.DatabaseURL = "sqlite://" + filepath.Join(o.DataDir, "petstore-auth.db")
	cfg.Tokens.AccessTokenLifespan = config.Duration(o.AccessTokenLifespan)
	// The API's URL is the one resource (RFC 8707): the default audience.
	cfg.Resources = []config.Resource{{Identifier: s.APIURL}}
	s.auth, err = server.Open(ctx, cfg, server.Options{Logger: o.Logger, Web: o.Web})
	if err != nil {
		return fail(err)
	}
	s.cleanup = append(s.cleanup, func() { s.auth.Close() })
	demoUser, err := seedAuth(ctx, s.auth, s.Secrets, s.DemoURL)
	if err != nil {
		return fail(fmt.Errorf("seed the authorization server: %w", err))
	}

	// 2. The PetStore API, which knows the authorization server only over HTTP.
	pets, err := petstore.Open(ctx, "sqlite://"+filepath.Join(o.DataDir, "petstore-api.db"))
	if err != nil {
		return fail(err)
	}
	s.cleanup = append(s.cleanup, func() { pets.Close() })
	if err := pets.Seed(ctx, demoUser.ID,
		petstore.Pet{Name: "Biscuit", Species: "dog", Age: 4},
		petstore.Pet{Name: "Miso", Species: "cat", Age: 2},
		petstore.Pet{Name: "Captain Flap", Species: "bird", Age: 7}); err != nil {
		return fail(fmt.Errorf("seed pets: %w", err))
	}
	verifier := &bearer.Verifier{Issuer: s.AuthURL, ClientID: apiClientID, ClientSecret: s.Secrets.APISecret,
		Audience: s.APIURL, AcceptAudiences: []string{bearer.LegacyAudience}, Mode: identity.EnvTest, RevocationPollInterval: 2 * time.Second, CacheTTL: o.APICacheTTL, Logger: o.Logger}
	pollCtx, stopPoll := context.WithCancel(context.WithoutCancel(ctx))
	go verifier.Run(pollCtx)
	go verifier.ReceiveEvents(pollCtx)
	s.cleanup = append(s.cleanup, stopPoll)
	// The same builder as petstore-api: client address, access log,
	// recovery, rate limits and metrics, with the API's default limits.
	limiter, err := ratelimit.FromURL(ctx, "", "", nil)
	if err != nil {
		return fail(err)
	}
	apiServer := petstore.NewServer(petstore.ServerConfig{
		RateLimitPerMinute:   petstore.DefaultRateLimitPerMinute,
		FailedPerIPPerMinute: petstore.DefaultFailedPerIPPerMinute,
		MetricsOnRouter:      true, // as petstore-api with dev: true
		PublicURL:            s.APIURL, Issuer: s.AuthURL,
	}, petstore.Deps{Store: pets, Verifier: verifier, Limiter: limiter, Logger: o.Logger})

	// 3. MyApp, the third-party demo.
	dcfg := demo.Default()
	dcfg.Listen, dcfg.PublicURL, dcfg.Issuer, dcfg.APIURL = lns[2].Addr().String(), s.DemoURL, s.AuthURL, s.APIURL
	dcfg.ClientID, dcfg.ClientSecret = demoClientID, s.Secrets.MyAppSecret
	if err := dcfg.Validate(); err != nil {
		return fail(err)
	}
	pages, err := demo.LoadPages(o.Web)
	if err != nil {
		return fail(err)
	}
	static, err := fs.Sub(o.Web, "static/demo")
	if err != nil {
		return fail(err)
	}
	demoRouter := mux.NewRouter()
	(&demo.Handler{Config: dcfg, Pages: pages, Static: static, Logger: o.Logger, Now: time.Now}).Mount(demoRouter)

	api := apiServer.Handler
	if o.observeAPI != nil {
		api = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { o.observeAPI(r); apiServer.Handler.ServeHTTP(w, r) })
	}
	for i, h := range []http.Handler{s.auth.Handler, api, demoRouter} {
		srv := server.HTTPServer(h)
		srv.ErrorLog = slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)
		s.servers = append(s.servers, srv)
		s.wg.Add(1)
		go func(ln net.Listener) {
			defer s.wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errc <- err
			}
		}(lns[i])
	}
	return s, nil
}

// stop drains the servers and closes the databases.
func (s *stack) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	s.wg.Wait()
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
	select {
	case err := <-s.errc:
		errs = append(errs, err)
	default:
	}
	return errors.Join(errs...)
}

func (s *stack) printWelcome(w io.Writer) {
	fmt.Fprintf(w, `
PetStore is running. Ctrl-C stops it.

  MyApp (a third-party app)   %s      ← start here: "Sign in with PetStore"
  PetStore Auth               %s      sign-in, consent, /account, /admin
  PetStore API                %s/v1/pets

  Demo user    %s  password %s
  Admin        %s  password %s
  Test API key %s
    curl -H "Authorization: Bearer %s" %s/v1/pets

Data and generated secrets are in %s (delete the folder to start afresh).
`, s.DemoURL, s.AuthURL, s.APIURL, demoEmail, s.Secrets.DemoPassword, adminEmail, s.Secrets.AdminPassword,
		s.Secrets.APIKey, s.Secrets.APIKey, s.APIURL, s.DataDir)
}

func loadSecrets(path string) (secrets, error) {
	var sec secrets
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &sec); err != nil {
			return sec, fmt.Errorf("%s is damaged (delete it to regenerate): %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return sec, err
	}
	changed := false
	fill := func(dst *string, gen func() string) {
		if *dst == "" {
			*dst, changed = gen(), true
		}
	}
	fill(&sec.DemoPassword, func() string { return "pets-" + rand.Text()[:12] })
	fill(&sec.AdminPassword, func() string { return "admin-" + rand.Text()[:12] })
	fill(&sec.MyAppSecret, func() string { s, _ := identity.NewClientSecret(); return s })
	fill(&sec.APISecret, func() string { s, _ := identity.NewClientSecret(); return s })
	fill(&sec.APIKey, func() string { k, _ := apikey.Generate(identity.EnvTest); return k })
	if changed {
		b, _ := json.MarshalIndent(sec, "", "  ")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return sec, err
		}
	}
	return sec, nil
}
