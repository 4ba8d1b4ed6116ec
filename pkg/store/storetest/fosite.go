package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

func testMigrations(t *testing.T, s Storage) {
	ctx := context.Background()
	ok, err := s.MigrationsCurrent(ctx)
	if err != nil || !ok {
		t.Fatalf("MigrationsCurrent after MigrateUp = %v, %v; want true, nil", ok, err)
	}
	list, err := s.MigrationStatus(ctx)
	if err != nil {
		t.Fatalf("MigrationStatus: %v", err)
	}
	if len(list) == 0 || list[0].Version != 1 || !list[0].Applied || list[0].AppliedAt.IsZero() {
		t.Fatalf("MigrationStatus = %+v; want version 1 applied with a time", list)
	}
	if err := s.MigrateUp(ctx); err != nil {
		t.Fatalf("second MigrateUp: %v", err)
	}
}

func testAuthorizeCode(t *testing.T, f *fositeEnv) {
	ctx, s := context.Background(), f.s
	f.client(t, "app")
	sess := emptySession()
	sess.Subject = "usr_code"
	if f.full != nil { // our store keeps the grant id, which must exist
		u := mustUser(t, f.full, "code@example.com")
		g := mustGrant(t, f.full, u.ID, "app")
		sess.Subject, sess.GrantID = u.ID, g.ID
	}
	sess.Extra = map[string]any{"auth_time": "now"}
	if err := s.CreateAuthorizeCodeSession(ctx, "code-sig", newRequest("app", "req-1", sess)); err != nil {
		t.Fatalf("CreateAuthorizeCodeSession: %v", err)
	}

	got := emptySession()
	req, err := s.GetAuthorizeCodeSession(ctx, "code-sig", got)
	if err != nil {
		t.Fatalf("GetAuthorizeCodeSession: %v", err)
	}
	if req.GetID() != "req-1" || req.GetClient().GetID() != "app" {
		t.Errorf("request id/client = %q/%q; want req-1/app", req.GetID(), req.GetClient().GetID())
	}
	if f.strict(t, LenientSessionDecode) && req.GetSession() != fosite.Session(got) {
		t.Errorf("request session is not the session handed in")
	}
	got, _ = req.GetSession().(*Session)
	if got == nil || got.Subject != sess.Subject || got.GrantID != sess.GrantID || got.Extra["auth_time"] != "now" {
		t.Fatalf("session not decoded: %+v", got)
	}
	if !got.GetExpiresAt(fosite.AuthorizeCode).Equal(sess.GetExpiresAt(fosite.AuthorizeCode)) {
		t.Errorf("code expiry = %v; want %v", got.GetExpiresAt(fosite.AuthorizeCode), sess.GetExpiresAt(fosite.AuthorizeCode))
	}
	if !slices.Equal(req.GetGrantedScopes(), fosite.Arguments{identity.ScopeReadPets}) ||
		!slices.Equal(req.GetRequestedAudience(), fosite.Arguments{"https://api.example"}) {
		t.Errorf("scopes/audience = %v/%v", req.GetGrantedScopes(), req.GetRequestedAudience())
	}
	if req.GetRequestForm().Get("redirect_uri") != "https://app.example/cb" {
		t.Errorf("form lost redirect_uri: %v", req.GetRequestForm())
	}

	if err := s.InvalidateAuthorizeCodeSession(ctx, "code-sig"); err != nil {
		t.Fatalf("InvalidateAuthorizeCodeSession: %v", err)
	}
	req, err = s.GetAuthorizeCodeSession(ctx, "code-sig", emptySession())
	if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		t.Fatalf("Get after invalidate: err = %v; want ErrInvalidatedAuthorizeCode", err)
	}
	if req == nil || req.GetID() != "req-1" {
		t.Fatalf("Get after invalidate must return the request with the error; got %v", req)
	}
	if f.strict(t, LenientDoubleInvalidate) {
		err = s.InvalidateAuthorizeCodeSession(ctx, "code-sig")
		if !errors.Is(err, store.ErrCodeAlreadyRedeemed) || !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
			t.Fatalf("second invalidate: err = %v; want ErrCodeAlreadyRedeemed", err)
		}
	}

	if _, err := s.GetAuthorizeCodeSession(ctx, "nope", emptySession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("unknown code: err = %v; want ErrNotFound", err)
	}
	if err := s.InvalidateAuthorizeCodeSession(ctx, "nope"); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("invalidate unknown code: err = %v; want ErrNotFound", err)
	}
}

func testFormHasNoSecrets(t *testing.T, f *fositeEnv) {
	ctx, s := context.Background(), f.s
	f.client(t, "app")
	req := newRequest("app", "req-form", nil)
	for _, k := range []string{"client_secret", "code", "refresh_token", "code_verifier", "password", "assertion", "client_assertion", "access_token"} {
		req.Form.Set(k, "secret-"+k)
	}
	req.Form.Set("grant_type", "authorization_code")
	if err := s.CreateAccessTokenSession(ctx, "at-form", req); err != nil {
		t.Fatalf("CreateAccessTokenSession: %v", err)
	}
	got, err := s.GetAccessTokenSession(ctx, "at-form", emptySession())
	if err != nil {
		t.Fatalf("GetAccessTokenSession: %v", err)
	}
	form := got.GetRequestForm()
	for k, v := range form {
		for _, x := range v {
			if len(x) >= 7 && x[:7] == "secret-" {
				t.Errorf("form kept secret parameter %s", k)
			}
		}
	}
	if form.Get("grant_type") != "authorization_code" || form.Get("state") != "xyzzy-state" {
		t.Errorf("form lost harmless parameters: %v", form)
	}
}

func testPKCE(t *testing.T, f *fositeEnv) {
	ctx, s := context.Background(), f.s
	f.client(t, "app")
	req := newRequest("app", "req-pkce", nil)
	req.Form.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	req.Form.Set("code_challenge_method", "S256")
	if err := s.CreatePKCERequestSession(ctx, "pkce-sig", req); err != nil {
		t.Fatalf("CreatePKCERequestSession: %v", err)
	}
	got, err := s.GetPKCERequestSession(ctx, "pkce-sig", emptySession())
	if err != nil {
		t.Fatalf("GetPKCERequestSession: %v", err)
	}
	if got.GetRequestForm().Get("code_challenge") != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" ||
		got.GetRequestForm().Get("code_challenge_method") != "S256" {
		t.Errorf("PKCE challenge lost: %v", got.GetRequestForm())
	}
	if err := s.DeletePKCERequestSession(ctx, "pkce-sig"); err != nil {
		t.Fatalf("DeletePKCERequestSession: %v", err)
	}
	if _, err := s.GetPKCERequestSession(ctx, "pkce-sig", emptySession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("after delete: err = %v; want ErrNotFound", err)
	}
}

func testAccessToken(t *testing.T, f *fositeEnv) {
	ctx, s := context.Background(), f.s
	f.client(t, "app")
	sess := emptySession()
	sess.Subject, sess.JTI = "usr_1", "jti-1"
	if err := s.CreateAccessTokenSession(ctx, "at-1", newRequest("app", "req-at", sess)); err != nil {
		t.Fatalf("CreateAccessTokenSession: %v", err)
	}
	sess2 := emptySession()
	sess2.JTI = "jti-2"
	if err := s.CreateAccessTokenSession(ctx, "at-2", newRequest("app", "req-at", sess2)); err != nil {
		t.Fatalf("CreateAccessTokenSession: %v", err)
	}
	if err := s.CreateAccessTokenSession(ctx, "at-other", newRequest("app", "req-other", nil)); err != nil {
		t.Fatalf("CreateAccessTokenSession: %v", err)
	}
	req, err := s.GetAccessTokenSession(ctx, "at-1", emptySession())
	if err != nil {
		t.Fatalf("GetAccessTokenSession: %v", err)
	}
	if got, _ := req.GetSession().(*Session); got == nil || got.Subject != "usr_1" || got.JTI != "jti-1" {
		t.Errorf("session = %+v; want subject usr_1, jti jti-1", got)
	}

	since := time.Now().Add(-time.Minute)
	if f.strict(t, LenientRevokeAccessByRequest) {
		revokeAccessByRequest(t, f, since)
	}

	if err := s.DeleteAccessTokenSession(ctx, "at-other"); err != nil {
		t.Fatalf("DeleteAccessTokenSession: %v", err)
	}
	if _, err := s.GetAccessTokenSession(ctx, "at-other", emptySession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("after delete: err = %v; want ErrNotFound", err)
	}
	// fosite's revocation handler passes a nil session.
	if req, err := s.GetAccessTokenSession(ctx, "at-1", nil); req == nil || req.GetClient().GetID() != "app" {
		t.Errorf("nil session: req=%v err=%v; want the request", req, err)
	}
}

// revokeAccessByRequest: revoking a request's access tokens makes every
// one of them inactive (fosite still hands back the request), and nothing
// else.
func revokeAccessByRequest(t *testing.T, f *fositeEnv, since time.Time) {
	ctx, s := context.Background(), f.s
	if err := s.RevokeAccessToken(ctx, "req-at"); err != nil {
		t.Fatalf("RevokeAccessToken: %v", err)
	}
	for _, sig := range []string{"at-1", "at-2"} {
		req, err := s.GetAccessTokenSession(ctx, sig, emptySession())
		if !errors.Is(err, fosite.ErrInactiveToken) || req == nil {
			t.Errorf("%s after revoke: req=%v err=%v; want request and ErrInactiveToken", sig, req, err)
		}
	}
	if _, err := s.GetAccessTokenSession(ctx, "at-other", emptySession()); err != nil {
		t.Errorf("token of another request was revoked too: %v", err)
	}
	if f.full != nil {
		revoked, err := f.full.ListRevokedJWTs(ctx, since)
		if err != nil {
			t.Fatalf("ListRevokedJWTs: %v", err)
		}
		if jtis := jtisOf(revoked); !slices.Equal(jtis, []string{"jti-1", "jti-2"}) {
			t.Errorf("revoked jtis = %v; want [jti-1 jti-2]", jtis)
		}
	}
	if err := s.RevokeAccessToken(ctx, "req-at"); err != nil {
		t.Errorf("revoking again: %v", err)
	}
	if err := s.RevokeAccessToken(ctx, "req-unknown"); err != nil {
		t.Errorf("revoking unknown request id: %v; want nil like fosite's memory store", err)
	}

}

func jtisOf(list []identity.RevokedJWT) []string {
	out := make([]string, 0, len(list))
	for _, r := range list {
		out = append(out, r.JTI)
	}
	slices.Sort(out)
	return out
}

func testRefreshToken(t *testing.T, f *fositeEnv) {
	ctx, s := context.Background(), f.s
	f.client(t, "app")
	sess := emptySession()
	sess.Subject = "usr_9"
	if err := s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", newRequest("app", "req-rt", sess)); err != nil {
		t.Fatalf("CreateRefreshTokenSession: %v", err)
	}
	req, err := s.GetRefreshTokenSession(ctx, "rt-1", emptySession())
	if err != nil {
		t.Fatalf("GetRefreshTokenSession: %v", err)
	}
	if got, _ := req.GetSession().(*Session); req.GetID() != "req-rt" || got == nil || got.Subject != "usr_9" {
		t.Errorf("got id %q session %+v", req.GetID(), got)
	}
	if err := s.RevokeRefreshToken(ctx, "req-rt"); err != nil {
		t.Fatalf("RevokeRefreshToken: %v", err)
	}
	req, err = s.GetRefreshTokenSession(ctx, "rt-1", emptySession())
	if !errors.Is(err, fosite.ErrInactiveToken) || req == nil || req.GetID() != "req-rt" {
		t.Fatalf("after revoke: req=%v err=%v; want request and ErrInactiveToken", req, err)
	}
	if err := s.DeleteRefreshTokenSession(ctx, "rt-1"); err != nil {
		t.Fatalf("DeleteRefreshTokenSession: %v", err)
	}
	if _, err := s.GetRefreshTokenSession(ctx, "rt-1", emptySession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("after delete: err = %v; want ErrNotFound", err)
	}
}

func testRotateRefreshToken(t *testing.T, f *fositeEnv) {
	ctx, s := context.Background(), f.s
	f.client(t, "app")
	sess := emptySession()
	sess.JTI = "jti-old"
	if err := s.CreateAccessTokenSession(ctx, "at-1", newRequest("app", "req-chain", sess)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", newRequest("app", "req-chain", nil)); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-time.Minute)
	// Another request's id rotates nothing.
	if err := s.RotateRefreshToken(ctx, "req-other", "rt-1"); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("rotating with another request id: err = %v; want ErrNotFound", err)
	}
	if _, err := s.GetRefreshTokenSession(ctx, "rt-1", emptySession()); err != nil {
		t.Errorf("after a refused rotation the token is not live: %v", err)
	}
	if err := s.RotateRefreshToken(ctx, "req-chain", "rt-1"); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	if _, err := s.GetRefreshTokenSession(ctx, "rt-1", emptySession()); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Errorf("rotated token: err = %v; want ErrInactiveToken", err)
	}
	if _, err := s.GetAccessTokenSession(ctx, "at-1", emptySession()); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Errorf("access token of rotated chain: err = %v; want ErrInactiveToken", err)
	}
	if f.full != nil {
		revoked, err := f.full.ListRevokedJWTs(ctx, since)
		if err != nil || !slices.Equal(jtisOf(revoked), []string{"jti-old"}) {
			t.Errorf("revoked jtis = %v, %v; want [jti-old]", jtisOf(revoked), err)
		}
	}
	if err := s.RotateRefreshToken(ctx, "req-chain", "rt-1"); !errors.Is(err, fosite.ErrSerializationFailure) {
		t.Errorf("second rotation: err = %v; want ErrSerializationFailure", err)
	}
	if err := s.RotateRefreshToken(ctx, "req-chain", "rt-unknown"); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("rotating unknown token: err = %v; want ErrNotFound", err)
	}

	// The successor shares the request id; revoking the chain reaches it.
	if err := s.CreateRefreshTokenSession(ctx, "rt-2", "at-2", newRequest("app", "req-chain", nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeRefreshToken(ctx, "req-chain"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRefreshTokenSession(ctx, "rt-2", emptySession()); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Errorf("successor after chain revocation: err = %v; want ErrInactiveToken", err)
	}
}

func testRotationGraceRecord(t *testing.T, s Storage) {
	ctx := context.Background()
	mustClient(t, s, "app")
	if err := s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", newRequest("app", "req-g", nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRotation(ctx, "rt-1", []byte("sealed")); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("SaveRotation on an unrotated token: err = %v; want ErrNotFound", err)
	}
	if _, err := s.RotationOf(ctx, "rt-1"); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("RotationOf unrotated token: err = %v; want ErrNotFound", err)
	}

	txCtx, err := s.BeginTX(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RotateRefreshToken(txCtx, "req-g", "rt-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRotation(txCtx, "rt-1", []byte("sealed-pair")); err != nil {
		t.Fatalf("SaveRotation in tx: %v", err)
	}
	if err := s.Commit(txCtx); err != nil {
		t.Fatal(err)
	}
	rot, err := s.RotationOf(ctx, "rt-1")
	if err != nil {
		t.Fatalf("RotationOf: %v", err)
	}
	if rot.RequestID != "req-g" || rot.ClientID != "app" || string(rot.Sealed) != "sealed-pair" || rot.RotatedAt.IsZero() {
		t.Errorf("RotationOf = %+v", rot)
	}
	if n, err := s.ClearRotations(ctx, rot.RotatedAt.Add(-time.Minute)); err != nil || n != 0 {
		t.Errorf("ClearRotations before the window ended = %d, %v; want 0", n, err)
	}
	if n, err := s.ClearRotations(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("ClearRotations = %d, %v; want 1", n, err)
	}
	if _, err := s.RotationOf(ctx, "rt-1"); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("RotationOf after clear: err = %v; want ErrNotFound", err)
	}

	// Revoking the family drops a successor still inside its window.
	if err := s.CreateRefreshTokenSession(ctx, "rt-2", "at-2", newRequest("app", "req-g", nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateRefreshToken(ctx, "req-g", "rt-2"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRotation(ctx, "rt-2", []byte("sealed-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeRefreshToken(ctx, "req-g"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotationOf(ctx, "rt-2"); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("RotationOf after family revocation: err = %v; want ErrNotFound", err)
	}
}

func testTransactions(t *testing.T, f *fositeEnv) {
	ctx := context.Background()
	s, ok := f.s.(interface {
		FositeStorage
		storage.Transactional
	})
	if !ok {
		t.Fatal("the storage is not transactional (storage.Transactional): skip this case with the reason")
	}
	f.client(t, "app")

	txCtx, err := s.BeginTX(ctx)
	if err != nil {
		t.Fatalf("BeginTX: %v", err)
	}
	if err := s.CreateAccessTokenSession(txCtx, "at-commit", newRequest("app", "req-c", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAccessTokenSession(txCtx, "at-commit", emptySession()); err != nil {
		t.Errorf("the transaction does not see its own write: %v", err)
	}
	if err := s.Commit(txCtx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if _, err := s.GetAccessTokenSession(ctx, "at-commit", emptySession()); err != nil {
		t.Errorf("committed write is missing: %v", err)
	}

	txCtx, err = s.BeginTX(ctx)
	if err != nil {
		t.Fatalf("BeginTX: %v", err)
	}
	if err := s.CreateAccessTokenSession(txCtx, "at-rollback", newRequest("app", "req-r", nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.InvalidateAuthorizeCodeSession(txCtx, "missing"); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("invalidate missing code in tx: %v", err)
	}
	if err := s.Rollback(txCtx); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if _, err := s.GetAccessTokenSession(ctx, "at-rollback", emptySession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("rolled back write is visible: err = %v", err)
	}
	if err := s.Rollback(txCtx); err != nil {
		t.Errorf("second Rollback should be a no-op: %v", err)
	}
	if err := s.Commit(ctx); err == nil {
		t.Errorf("Commit without a transaction succeeded")
	}

	// A nested BeginTX is a savepoint: its rollback keeps the outer work.
	outer, err := s.BeginTX(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccessTokenSession(outer, "at-outer", newRequest("app", "req-o", nil)); err != nil {
		t.Fatal(err)
	}
	inner, err := s.BeginTX(outer)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccessTokenSession(inner, "at-inner", newRequest("app", "req-i", nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.Rollback(inner); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(outer); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAccessTokenSession(ctx, "at-outer", emptySession()); err != nil {
		t.Errorf("outer write lost: %v", err)
	}
	if _, err := s.GetAccessTokenSession(ctx, "at-inner", emptySession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("inner rolled-back write visible: %v", err)
	}
	testFlatTransactions(t, f)
}

// testFlatTransactions: inside a BeginFlatTX a nested BeginTX joins the
// outer transaction (no savepoint): its Commit does not commit, and the
// outer Rollback undoes the nested work too.
func testFlatTransactions(t *testing.T, f *fositeEnv) {
	ctx := context.Background()
	s, ok := f.s.(interface {
		FositeStorage
		storage.Transactional
		BeginFlatTX(ctx context.Context) (context.Context, error)
	})
	if !ok {
		return // a storage without flat transactions (fosite's own)
	}
	for _, commit := range []bool{false, true} {
		outer, err := s.BeginFlatTX(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.BeginFlatTX(outer); err == nil {
			t.Error("BeginFlatTX inside a transaction accepted")
		}
		inner, err := s.BeginTX(outer)
		if err != nil {
			t.Fatal(err)
		}
		sig := fmt.Sprintf("at-flat-%v", commit)
		if err := s.CreateAccessTokenSession(inner, sig, newRequest("app", "req-f", nil)); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(inner); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = s.Commit(outer)
		} else {
			err = s.Rollback(outer)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.GetAccessTokenSession(ctx, sig, emptySession())
		if commit && err != nil {
			t.Errorf("flat transaction committed, nested write lost: %v", err)
		}
		if !commit && !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("flat transaction rolled back, nested write kept: %v", err)
		}
	}
	testFlatTransactionFails(t, s)
}

// testFlatTransactionFails: a flat transaction whose later write fails
// leaves nothing behind once rolled back, not even its earlier writes.
func testFlatTransactionFails(t *testing.T, s interface {
	FositeStorage
	storage.Transactional
	BeginFlatTX(ctx context.Context) (context.Context, error)
}) {
	rot, ok := s.(interface {
		SaveRotation(ctx context.Context, oldSignature string, sealed []byte) error
	})
	if !ok {
		return
	}
	ctx := context.Background()
	tx, err := s.BeginFlatTX(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccessTokenSession(tx, "at-flat-failed", newRequest("app", "req-ff", nil)); err != nil {
		t.Fatal(err)
	}
	err = rot.SaveRotation(tx, "rt-never-rotated", []byte("sealed"))
	if err == nil {
		err = s.Commit(tx)
	}
	if err == nil {
		t.Fatal("saving the rotation of an unknown token succeeded")
	}
	_ = s.Rollback(tx)
	if _, err := s.GetAccessTokenSession(ctx, "at-flat-failed", emptySession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("failed flat transaction kept a write: %v", err)
	}
}

func testClientAssertionJWT(t *testing.T, f *fositeEnv) {
	ctx, s := context.Background(), f.s
	if err := s.ClientAssertionJWTValid(ctx, "jti-a"); err != nil {
		t.Fatalf("unknown jti: %v; want nil", err)
	}
	if err := s.SetClientAssertionJWT(ctx, "jti-a", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.ClientAssertionJWTValid(ctx, "jti-a"); !errors.Is(err, fosite.ErrJTIKnown) {
		t.Errorf("seen jti: err = %v; want ErrJTIKnown", err)
	}
	if err := s.SetClientAssertionJWT(ctx, "jti-b", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.ClientAssertionJWTValid(ctx, "jti-b"); err != nil {
		t.Errorf("expired jti: err = %v; want nil", err)
	}
	// The set is the single-use check: a second set of a live jti fails
	// (private_key_jwt assertion reuse), an expired one may be used again.
	if err := s.SetClientAssertionJWT(ctx, "jti-a", time.Now().Add(time.Hour)); !errors.Is(err, fosite.ErrJTIKnown) {
		t.Errorf("second set of a live jti: err = %v; want ErrJTIKnown", err)
	}
	if err := s.SetClientAssertionJWT(ctx, "jti-b", time.Now().Add(time.Hour)); err != nil {
		t.Errorf("set of an expired jti: err = %v; want nil", err)
	}
}
