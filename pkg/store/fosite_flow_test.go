package store_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
	"golang.org/x/oauth2"
)

// The store driven by fosite's own handlers, as the provider will use it:
// code + PKCE, refresh rotation and reuse, code reuse, grant revocation.

const (
	flowClientID = "flow-app"
	flowSecret   = "flow-secret-with-plenty-of-entropy"
	flowRedirect = "https://app.example/cb"
)

type sha256Hasher struct{}

func (sha256Hasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return h[:], nil
}

func (sha256Hasher) Compare(_ context.Context, hash, data []byte) error {
	h := sha256.Sum256(data)
	if subtle.ConstantTimeCompare(hash, h[:]) != 1 {
		return errors.New("secret mismatch")
	}
	return nil
}

type flow struct {
	t        *testing.T
	s        *store.Store
	provider fosite.OAuth2Provider
	grantID  string
}

func newFlow(t *testing.T) *flow {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "flow.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	secretHash := sha256.Sum256([]byte(flowSecret))
	err = s.CreateClient(ctx, &identity.Client{
		ID: flowClientID, SecretHash: secretHash[:], RedirectURIs: []string{flowRedirect},
		GrantTypes: []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken},
		Scopes:     []string{identity.ScopeReadPets, identity.ScopeOfflineAccess},
	})
	if err != nil {
		t.Fatal(err)
	}
	u := &identity.User{Email: "flow@example.com"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	g, err := s.UpsertGrant(ctx, u.ID, flowClientID, []string{identity.ScopeReadPets, identity.ScopeOfflineAccess}, false)
	if err != nil {
		t.Fatal(err)
	}
	global := make([]byte, 32)
	rand.Read(global)
	cfg := &fosite.Config{
		GlobalSecret:          global,
		AccessTokenLifespan:   15 * time.Minute,
		RefreshTokenLifespan:  24 * time.Hour,
		AuthorizeCodeLifespan: time.Minute,
		EnforcePKCE:           true,
		ClientSecretsHasher:   sha256Hasher{},
	}
	p := compose.Compose(cfg, s, compose.NewOAuth2HMACStrategy(cfg),
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2TokenIntrospectionFactory,
	)
	return &flow{t: t, s: s, provider: p, grantID: g.ID}
}

// authorize runs the authorization endpoint with consent granted and
// returns the code and the PKCE verifier.
func (f *flow) authorize() (code, verifier string) {
	f.t.Helper()
	verifier = oauth2.GenerateVerifier()
	q := url.Values{
		"response_type": {"code"}, "client_id": {flowClientID}, "redirect_uri": {flowRedirect},
		"scope": {"read:pets offline_access"}, "state": {"state-0123456789"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
	r := httptest.NewRequest(http.MethodGet, "/oauth2/auth?"+q.Encode(), nil)
	ctx := r.Context()
	ar, err := f.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		f.t.Fatalf("NewAuthorizeRequest: %v", fosite.ErrorToRFC6749Error(err).WithExposeDebug(true).GetDescription())
	}
	for _, sc := range ar.GetRequestedScopes() {
		ar.GrantScope(sc)
	}
	sess := &storetest.Session{DefaultSession: &fosite.DefaultSession{Subject: "usr_flow"}, GrantID: f.grantID}
	resp, err := f.provider.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		f.t.Fatalf("NewAuthorizeResponse: %v", err)
	}
	return resp.GetParameters().Get("code"), verifier
}

// token calls the token endpoint and returns the access and refresh tokens.
func (f *flow) token(form url.Values) (access, refresh string, err error) {
	r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(flowClientID, flowSecret)
	ctx := r.Context()
	ar, err := f.provider.NewAccessRequest(ctx, r, &storetest.Session{DefaultSession: &fosite.DefaultSession{}})
	if err != nil {
		return "", "", err
	}
	resp, err := f.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		return "", "", err
	}
	refresh, _ = resp.GetExtra("refresh_token").(string)
	return resp.GetAccessToken(), refresh, nil
}

func (f *flow) exchange(code, verifier string) (string, string, error) {
	return f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {flowRedirect}})
}

func (f *flow) refresh(rt string) (string, string, error) {
	return f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func (f *flow) active(token string, use fosite.TokenType) bool {
	sess := &storetest.Session{DefaultSession: &fosite.DefaultSession{}}
	got, _, err := f.provider.IntrospectToken(context.Background(), token, use, sess)
	return err == nil && got == use
}

func TestFositeFlow(t *testing.T) {
	f := newFlow(t)
	code, verifier := f.authorize()
	at, rt, err := f.exchange(code, verifier)
	if err != nil || at == "" || rt == "" {
		t.Fatalf("code exchange = %q, %q, %v; want both tokens", at, rt, err)
	}
	if !f.active(at, fosite.AccessToken) {
		t.Fatalf("fresh access token does not introspect as active")
	}

	at2, rt2, err := f.refresh(rt)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if f.active(at, fosite.AccessToken) {
		t.Errorf("access token of the rotated refresh token is still active")
	}
	if !f.active(at2, fosite.AccessToken) {
		t.Errorf("new access token is not active")
	}

	// Reusing the rotated refresh token is detected and revokes the family.
	if _, _, err := f.refresh(rt); !errors.Is(err, fosite.ErrInvalidGrant) {
		t.Fatalf("refresh token reuse: err = %v; want invalid_grant", err)
	}
	if f.active(at2, fosite.AccessToken) {
		t.Errorf("reuse did not revoke the successor access token")
	}
	if _, _, err := f.refresh(rt2); err == nil {
		t.Errorf("reuse did not revoke the successor refresh token")
	}

	// Reusing a code fails and revokes what the first redemption issued.
	code, verifier = f.authorize()
	at3, _, err := f.exchange(code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.exchange(code, verifier); !errors.Is(err, fosite.ErrInvalidGrant) {
		t.Fatalf("code reuse: err = %v; want invalid_grant", err)
	}
	if f.active(at3, fosite.AccessToken) {
		t.Errorf("code reuse did not revoke the first redemption's access token")
	}

	// The grant id travels from the authorize session to every token, so
	// revoking the grant kills them.
	code, verifier = f.authorize()
	at4, rt4, err := f.exchange(code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeGrant(context.Background(), f.grantID); err != nil {
		t.Fatal(err)
	}
	if f.active(at4, fosite.AccessToken) {
		t.Errorf("access token survived its grant's revocation")
	}
	if _, _, err := f.refresh(rt4); err == nil {
		t.Errorf("refresh token survived its grant's revocation")
	}
}

func TestFositeConcurrentRefresh(t *testing.T) {
	f := newFlow(t)
	code, verifier := f.authorize()
	_, rt, err := f.exchange(code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wins atomic.Int32
		wg   sync.WaitGroup
	)
	start := make(chan struct{})
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, _, err := f.refresh(rt); err == nil {
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d parallel refreshes with one token succeeded; want exactly 1", n)
	}
}

// TestCodeMemo: within WithCodeMemo the code's row is read once, a session
// the row was decoded into keeps what the caller changed in it, a new one
// gets the row's, and the code's redemption is seen by later reads; the
// conditional update still decides against the database.
func TestCodeMemo(t *testing.T) {
	f := newFlow(t)
	code, _ := f.authorize()
	sig := code[strings.LastIndexByte(code, '.')+1:]
	n := f.s.CountStatements()
	defer n.Stop()
	ctx := f.s.WithCodeMemo(context.Background())
	newSession := func() *storetest.Session { return &storetest.Session{DefaultSession: &fosite.DefaultSession{}} }
	sess := newSession()
	if _, err := f.s.GetAuthorizeCodeSession(ctx, sig, sess); err != nil || sess.Subject != "usr_flow" {
		t.Fatalf("first read: %v, subject %q", err, sess.Subject)
	}
	sess.Subject = "changed by the caller"
	if req, err := f.s.GetAuthorizeCodeSession(ctx, sig, sess); err != nil || req.GetSession() != fosite.Session(sess) || sess.Subject != "changed by the caller" {
		t.Fatalf("second read: %v, subject %q", err, sess.Subject)
	}
	if other := newSession(); func() error { _, err := f.s.GetAuthorizeCodeSession(ctx, sig, other); return err }() != nil || other.Subject != "usr_flow" {
		t.Fatalf("a new session: subject %q, want the row's", other.Subject)
	}
	if err := f.s.InvalidateAuthorizeCodeSession(ctx, sig); err != nil {
		t.Fatalf("redeem: %v", err)
	}
	if req, err := f.s.GetAuthorizeCodeSession(ctx, sig, newSession()); !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) || req == nil {
		t.Fatalf("after the redemption: %v, %v; want the request and ErrInvalidatedAuthorizeCode", req, err)
	}
	if got := n.ByTable()["authorize_codes"]; got != 2 {
		t.Errorf("%d statements on authorize_codes, want 2 (one read, one update)", got)
	}
	if err := f.s.InvalidateAuthorizeCodeSession(ctx, sig); !errors.Is(err, store.ErrCodeAlreadyRedeemed) {
		t.Errorf("second redemption: %v, want ErrCodeAlreadyRedeemed", err)
	}
}
