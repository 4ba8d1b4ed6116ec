// Command petstore-load is a closed-loop load generator for PetStore Auth's
// own scenarios over real HTTP. N workers send requests back to back for a
// fixed time; it prints requests/s, latency percentiles, errors and — given
// the server's pid — the server's CPU time per request from /proc/PID/stat.
//
// It refuses targets outside the loopback range: it is for measuring on
// your own machine, not for load-testing someone else's.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

type options struct {
	target, scenario string
	// iss is the issuer the authorization responses must name (RFC 9207),
	// "" for the target.
	iss                    string
	dpop                   bool
	workers                int
	duration               time.Duration
	maxRequests            int
	clientID, clientSecret string
	rsID, rsSecret         string
	token, refreshToken    string
	apiURL                 string
	serverPID              int
	// authcode and refresh: the signed-in user and the client's redirect URI.
	email, password string
	redirectURI     string
	scope           string
}

func main() {
	var o options
	flag.StringVar(&o.target, "target", "http://127.0.0.1:8080", "authorization server base URL (loopback only)")
	flag.StringVar(&o.iss, "issuer", "", "issuer the authorization responses must name (iss, RFC 9207); default: -target")
	flag.StringVar(&o.apiURL, "api", "http://127.0.0.1:8081", "PetStore API base URL for the api-* scenarios (loopback only)")
	flag.StringVar(&o.scenario, "scenario", "client_credentials", "client_credentials | introspect | refresh | authcode | api-noauth | api-pets-noauth (needs a petstore-api built with -tags petstore_bench_noauth) | api-bearer | api-junk | api-forged | revocation")
	flag.BoolVar(&o.dpop, "dpop", false, "client_credentials and api-bearer with DPoP (RFC 9449): a new ES256 proof per request; api-bearer first gets a DPoP-bound token per worker with -client-id/-client-secret")
	flag.IntVar(&o.workers, "workers", 8, "concurrent workers (closed loop)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to run (max 5m)")
	flag.IntVar(&o.maxRequests, "max-requests", 1_000_000, "stop after this many requests")
	flag.StringVar(&o.clientID, "client-id", "", "client for client_credentials/refresh")
	flag.StringVar(&o.clientSecret, "client-secret", "", "its secret (or PETSTORE_LOAD_CLIENT_SECRET)")
	flag.StringVar(&o.rsID, "rs-id", "", "resource-server client for introspect")
	flag.StringVar(&o.rsSecret, "rs-secret", "", "its secret (or PETSTORE_LOAD_RS_SECRET)")
	flag.StringVar(&o.token, "token", "", "token or API key to introspect / send as bearer (or PETSTORE_LOAD_TOKEN)")
	flag.StringVar(&o.refreshToken, "refresh-token", "", "starting refresh tokens for the refresh scenario, one per worker separated by commas (default: each worker signs in as -email and gets its own)")
	flag.StringVar(&o.email, "email", "", "user who signs in for authcode (and refresh without -refresh-token)")
	flag.StringVar(&o.password, "password", "", "their password (or PETSTORE_LOAD_PASSWORD)")
	flag.StringVar(&o.redirectURI, "redirect-uri", "https://app.example/cb", "the client's registered redirect URI (never contacted)")
	flag.StringVar(&o.scope, "scope", "read:pets offline_access", "scopes asked for in authcode")
	flag.IntVar(&o.serverPID, "server-pid", 0, "pid of the server process, to report its CPU time per request")
	flag.Parse()
	envDefault(&o.clientSecret, "PETSTORE_LOAD_CLIENT_SECRET")
	envDefault(&o.rsSecret, "PETSTORE_LOAD_RS_SECRET")
	envDefault(&o.token, "PETSTORE_LOAD_TOKEN")
	envDefault(&o.password, "PETSTORE_LOAD_PASSWORD")
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func envDefault(dst *string, name string) {
	if *dst == "" {
		*dst = os.Getenv(name)
	}
}

func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s is not a loopback address; petstore-load only targets this machine", raw)
	}
	return nil
}

// request returns the next request of a worker; refresh chains keep state.
type requestFunc func(ctx context.Context, c *http.Client) error

func run(o options) error {
	if err := loopbackOnly(o.target); err != nil {
		return err
	}
	if err := loopbackOnly(o.apiURL); err != nil {
		return err
	}
	if o.workers < 1 || o.workers > 1024 || o.duration <= 0 || o.duration > 5*time.Minute {
		return errors.New("workers must be 1-1024 and duration 1s-5m")
	}
	transport := &http.Transport{MaxIdleConnsPerHost: o.workers * 2, MaxConnsPerHost: o.workers * 2}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	if o.scenario == "revocation" {
		return runRevocation(o, transport) // revocation.go: its own loop and report
	}
	refreshChains := strings.Split(o.refreshToken, ",")
	// One sign-in serves every worker: login attempts are rate limited per
	// account, and codes are independent of each other.
	var signedIn *user
	session := func() (*user, error) {
		var err error
		if signedIn == nil {
			signedIn, err = signIn(o, transport)
		}
		return signedIn, err
	}
	makeWorker := func(i int) (requestFunc, error) {
		switch o.scenario {
		case "client_credentials":
			key := dpoptest.NewKey()
			return func(ctx context.Context, c *http.Client) error {
				_, err := postForm(ctx, c, o.target+"/oauth2/token", o.clientID, o.clientSecret, url.Values{"grant_type": {"client_credentials"}},
					o.proof(key, http.MethodPost, o.target+"/oauth2/token", ""))
				return err
			}, nil
		case "introspect":
			return func(ctx context.Context, c *http.Client) error {
				m, err := postForm(ctx, c, o.target+"/oauth2/introspect", o.rsID, o.rsSecret, url.Values{"token": {o.token}})
				if err == nil && m["active"] != true {
					err = errors.New("token inactive")
				}
				return err
			}, nil
		case "authcode":
			u, err := session()
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, _ *http.Client) error {
				_, err := u.authorize(ctx)
				return err
			}, nil
		case "refresh":
			var rt string
			switch {
			case i < len(refreshChains) && refreshChains[i] != "":
				rt = refreshChains[i]
			case o.email != "":
				u, err := session()
				if err != nil {
					return nil, err
				}
				m, err := u.authorize(context.Background())
				if err != nil {
					return nil, err
				}
				if rt, _ = m["refresh_token"].(string); rt == "" {
					return nil, errors.New("no refresh token from the code exchange (does the client allow offline_access?)")
				}
			default:
				return nil, fmt.Errorf("refresh needs -email or one refresh token per worker (%d given)", len(refreshChains))
			}
			return func(ctx context.Context, c *http.Client) error {
				m, err := postForm(ctx, c, o.target+"/oauth2/token", o.clientID, o.clientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
				if err != nil {
					return err
				}
				next, _ := m["refresh_token"].(string)
				if next == "" {
					return errors.New("no refresh token in response")
				}
				rt = next
				return nil
			}, nil
		case "api-junk", "api-forged":
			// A new made-up bearer token on every request: random after the
			// prefix (api-junk), or well-formed with a valid checksum
			// (api-forged). Expect 401s, then 429s.
			return func(ctx context.Context, c *http.Client) error {
				b := make([]byte, 32)
				_, _ = rand.Read(b)
				tok := "pst_at_" + hex.EncodeToString(b)
				if o.scenario == "api-forged" {
					tok = tokenformat.Seal(tokenformat.AccessToken, base64.RawURLEncoding.EncodeToString(b)+"."+base64.RawURLEncoding.EncodeToString(b))
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.apiURL+"/v1/pets", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				return do(c, req, nil)
			}, nil
		case "api-pets-noauth":
			return petsNoAuth(o), nil
		case "api-noauth", "api-bearer":
			path := "/v1/pets"
			if o.scenario == "api-noauth" {
				path = "/healthz"
			}
			tok, scheme, key := o.token, "Bearer ", dpoptest.NewKey()
			if o.dpop && o.scenario == "api-bearer" {
				m, err := postForm(context.Background(), client, o.target+"/oauth2/token", o.clientID, o.clientSecret,
					url.Values{"grant_type": {"client_credentials"}, "scope": {"read:pets"}}, o.proof(key, http.MethodPost, o.target+"/oauth2/token", ""))
				if err != nil {
					return nil, fmt.Errorf("DPoP-bound token: %w", err)
				}
				tok, scheme = m["access_token"].(string), "DPoP "
			}
			return func(ctx context.Context, c *http.Client) error {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.apiURL+path, nil)
				if o.scenario == "api-bearer" {
					req.Header.Set("Authorization", scheme+tok)
					if p := o.proof(key, http.MethodGet, o.apiURL+path, tok); p != "" {
						req.Header.Set("DPoP", p)
					}
				}
				return do(c, req, nil)
			}, nil
		}
		return nil, fmt.Errorf("unknown scenario %q", o.scenario)
	}

	// Set every worker up (sign-ins, first codes) before the clock starts.
	fns := make([]requestFunc, o.workers)
	for i := range fns {
		fn, err := makeWorker(i)
		if err != nil {
			return fmt.Errorf("worker %d: %w", i, err)
		}
		fns[i] = fn
	}
	cpuBefore, _ := cpuTime(o.serverPID)
	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      = map[string]int{}
		count     int
		wg        sync.WaitGroup
	)
	start := time.Now()
	for _, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for ctx.Err() == nil {
				mu.Lock()
				if count >= o.maxRequests {
					mu.Unlock()
					break
				}
				count++
				mu.Unlock()
				t0 := time.Now()
				err := fn(ctx, client)
				if ctx.Err() != nil {
					break
				}
				local = append(local, time.Since(t0))
				if err != nil {
					mu.Lock()
					errs[err.Error()]++
					mu.Unlock()
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpuAfter, cpuErr := cpuTime(o.serverPID)
	slices.Sort(latencies)
	n := len(latencies)
	if n == 0 {
		return errors.New("no request completed")
	}
	pct := func(p float64) time.Duration { return latencies[min(n-1, int(float64(n)*p))] }
	nerr := 0
	for _, c := range errs {
		nerr += c
	}
	fmt.Printf("scenario=%s workers=%d duration=%s\n", o.scenario, o.workers, elapsed.Round(time.Millisecond))
	if o.scenario == "authcode" {
		fmt.Println("(one request = GET /oauth2/auth with remembered consent + POST /oauth2/token)")
	}
	fmt.Printf("requests=%d ok=%d errors=%d rate=%.0f req/s\n", n, n-nerr, nerr, float64(n)/elapsed.Seconds())
	fmt.Printf("latency p50=%s p90=%s p99=%s max=%s\n", pct(.5).Round(time.Microsecond), pct(.9).Round(time.Microsecond), pct(.99).Round(time.Microsecond), latencies[n-1].Round(time.Microsecond))
	if o.serverPID > 0 && cpuErr == nil {
		cpu := cpuAfter - cpuBefore
		fmt.Printf("server cpu=%s per_request=%s\n", cpu.Round(time.Millisecond), (cpu / time.Duration(n)).Round(time.Microsecond))
	}
	for e, c := range errs {
		fmt.Printf("error x%d: %s\n", c, e)
	}
	return nil
}

// proof is a DPoP proof for method and u (bound to accessToken when set), or
// "" without -dpop.
func (o *options) proof(k *dpoptest.Key, method, u, accessToken string) string {
	if !o.dpop {
		return ""
	}
	return k.Proof(method, u, dpoptest.Opts{AccessToken: accessToken})
}

// postForm posts form with HTTP Basic client authentication and, when
// proof is set, a DPoP header.
func postForm(ctx context.Context, c *http.Client, u, id, secret string, form url.Values, proof ...string) (map[string]any, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(proof) > 0 && proof[0] != "" {
		req.Header.Set("DPoP", proof[0])
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))))
	var m map[string]any
	return m, do(c, req, &m)
}

func do(c *http.Client, req *http.Request, into *map[string]any) error {
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d %.80s", res.StatusCode, body)
	}
	if into != nil {
		return json.Unmarshal(body, into)
	}
	return nil
}

// cpuTime reads utime+stime of pid from /proc (Linux), in clock ticks of 10 ms.
func cpuTime(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}
