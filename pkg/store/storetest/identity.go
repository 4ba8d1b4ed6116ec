package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

var timeZero time.Time

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := identity.ErrorCode(err); got != code {
		t.Errorf("%s: error %v has code %q; want %q", what, err, got, code)
	}
}

func testUsers(t *testing.T, s Storage) {
	ctx := context.Background()
	u := &identity.User{Email: "  Alice@Example.COM ", PasswordHash: "$argon2id$x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if len(u.ID) < 10 || u.ID[:4] != "usr_" || u.Email != "alice@example.com" || u.CreatedAt.IsZero() {
		t.Errorf("created user = %+v; want usr_ id, lower-case email, created time", u)
	}
	wantCode(t, "duplicate email", s.CreateUser(ctx, &identity.User{Email: "ALICE@example.com"}), identity.ECONFLICT)
	wantCode(t, "empty email", s.CreateUser(ctx, &identity.User{}), identity.EINVALID)

	got, err := s.UserByEmail(ctx, "alice@EXAMPLE.com")
	if err != nil || got.ID != u.ID || got.PasswordHash != "$argon2id$x" {
		t.Fatalf("UserByEmail = %+v, %v", got, err)
	}
	if _, err := s.UserByID(ctx, "usr_missing"); !identity.IsNotFound(err) {
		t.Errorf("UserByID(missing): %v; want ENOTFOUND", err)
	}
	if _, err := s.UserByEmail(ctx, "nobody@example.com"); !identity.IsNotFound(err) {
		t.Errorf("UserByEmail(missing): %v; want ENOTFOUND", err)
	}

	for i := range 5 {
		mustUser(t, s, fmt.Sprintf("user%d@pets.test", i))
	}
	list, total, err := s.ListUsers(ctx, identity.UserFilter{Query: "PETS.test", Page: identity.Page{Limit: 2}})
	if err != nil || total != 5 || len(list) != 2 {
		t.Fatalf("ListUsers(query) = %d users, total %d, %v; want 2 of 5", len(list), total, err)
	}
	if list[0].Email != "user4@pets.test" {
		t.Errorf("ListUsers first = %s; want the newest, user4@pets.test", list[0].Email)
	}
	page2, _, err := s.ListUsers(ctx, identity.UserFilter{Query: "pets.test", Page: identity.Page{Offset: 2, Limit: 2}})
	if err != nil || len(page2) != 2 || page2[0].Email != "user2@pets.test" {
		t.Errorf("ListUsers page 2 = %v, %v", page2, err)
	}
	if _, total, _ := s.ListUsers(ctx, identity.UserFilter{Query: "%"}); total != 0 {
		t.Errorf("query %% matched %d users; want a literal match (0)", total)
	}

	got.Email, got.Admin, got.Disabled = "Alice2@example.com", true, true
	if err := s.UpdateUser(ctx, got); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	again, err := s.UserByID(ctx, u.ID)
	if err != nil || again.Email != "alice2@example.com" || !again.Admin || !again.Disabled {
		t.Errorf("after update = %+v, %v", again, err)
	}
	again.Email = "user1@pets.test"
	wantCode(t, "update to a taken email", s.UpdateUser(ctx, again), identity.ECONFLICT)
	wantCode(t, "update missing user", s.UpdateUser(ctx, &identity.User{ID: "usr_missing", Email: "x@y.z"}), identity.ENOTFOUND)
}

func testClients(t *testing.T, s Storage) {
	ctx := context.Background()
	c := mustClient(t, s, "petapp")
	wantCode(t, "duplicate client id", s.CreateClient(ctx, &identity.Client{ID: "petapp"}), identity.ECONFLICT)
	wantCode(t, "empty client id", s.CreateClient(ctx, &identity.Client{}), identity.EINVALID)

	got, err := s.ClientByID(ctx, "petapp")
	if err != nil {
		t.Fatalf("ClientByID: %v", err)
	}
	if string(got.SecretHash) != string(c.SecretHash) || !slices.Equal(got.RedirectURIs, c.RedirectURIs) ||
		!slices.Equal(got.GrantTypes, c.GrantTypes) || got.TokenFormat != identity.TokenFormatOpaque {
		t.Errorf("ClientByID = %+v; want %+v", got, c)
	}

	fc, err := s.GetClient(ctx, "petapp")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	sc, ok := fc.(*store.Client)
	if !ok || sc.Identity().ID != "petapp" {
		t.Fatalf("GetClient returned %T; want *store.Client", fc)
	}
	if !slices.Equal(fc.GetResponseTypes(), fosite.Arguments{"code"}) || fc.IsPublic() ||
		string(fc.GetHashedSecret()) != string(c.SecretHash) || !fc.GetGrantTypes().Has(identity.GrantRefreshToken) {
		t.Errorf("fosite view of the client is wrong: %+v", fc)
	}

	svc := &identity.Client{ID: "svc", GrantTypes: []string{identity.GrantClientCredentials}, Public: false, CanIntrospect: true, TokenFormat: identity.TokenFormatJWT}
	if err := s.CreateClient(ctx, svc); err != nil {
		t.Fatal(err)
	}
	fsvc, err := s.GetClient(ctx, "svc")
	if err != nil || len(fsvc.GetResponseTypes()) != 0 {
		t.Errorf("client_credentials client response types = %v, %v; want none", fsvc.GetResponseTypes(), err)
	}
	list, total, err := s.ListClients(ctx, identity.ClientFilter{})
	if err != nil || total != 2 || list[0].ID != "svc" || !list[0].CanIntrospect || list[0].TokenFormat != identity.TokenFormatJWT {
		t.Errorf("ListClients = %v, %d, %v; want svc first of 2", list, total, err)
	}

	// A disabled client is invisible to fosite, and its tokens die with it.
	sess := emptySession()
	sess.JTI = "jti-disabled"
	if err := s.CreateAccessTokenSession(ctx, "at-p", newRequest("petapp", "req-p", sess)); err != nil {
		t.Fatal(err)
	}
	got.Disabled, got.Name = true, "Renamed"
	if err := s.UpdateClient(ctx, got); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	if _, err := s.GetClient(ctx, "petapp"); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("GetClient(disabled): %v; want ErrNotFound", err)
	}
	if again, _ := s.ClientByID(ctx, "petapp"); again == nil || again.Name != "Renamed" || !again.Disabled {
		t.Errorf("ClientByID after update = %+v", again)
	}
	if revoked, _ := s.ListRevokedJWTs(ctx, timeZero); !slices.Contains(jtisOf(revoked), "jti-disabled") {
		t.Errorf("disabling the client did not list its JWT ids as revoked: %v", revoked)
	}
	wantCode(t, "update missing client", s.UpdateClient(ctx, &identity.Client{ID: "nope"}), identity.ENOTFOUND)

	if err := s.CreateRefreshTokenSession(ctx, "rt-svc", "at-svc", newRequest("svc", "req-svc", nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteClient(ctx, "svc"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	if _, err := s.ClientByID(ctx, "svc"); !identity.IsNotFound(err) {
		t.Errorf("ClientByID after delete: %v", err)
	}
	if _, err := s.GetRefreshTokenSession(ctx, "rt-svc", emptySession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("token of a deleted client survived: %v", err)
	}
	wantCode(t, "delete missing client", s.DeleteClient(ctx, "svc"), identity.ENOTFOUND)
}

func testGrants(t *testing.T, s Storage) {
	ctx := context.Background()
	mustClient(t, s, "app")
	mustClient(t, s, "other")
	u := mustUser(t, s, "grant@example.com")

	g, err := s.UpsertGrant(ctx, u.ID, "app", []string{identity.ScopeReadPets}, false)
	if err != nil {
		t.Fatalf("UpsertGrant: %v", err)
	}
	if g.ID[:4] != "grt_" || g.RevokedAt != nil || g.Remember {
		t.Errorf("new grant = %+v", g)
	}
	g2, err := s.UpsertGrant(ctx, u.ID, "app", []string{identity.ScopeWritePets, identity.ScopeOfflineAccess}, true)
	if err != nil {
		t.Fatalf("second UpsertGrant: %v", err)
	}
	if g2.ID != g.ID || !slices.Equal(g2.Scopes, []string{identity.ScopeWritePets, identity.ScopeOfflineAccess}) || !g2.Remember {
		t.Errorf("upsert did not update the active grant in place: %+v", g2)
	}
	active, err := s.ActiveGrant(ctx, u.ID, "app")
	if err != nil || active.ID != g.ID || !slices.Equal(active.Scopes, g2.Scopes) {
		t.Errorf("ActiveGrant = %+v, %v", active, err)
	}
	if _, err := s.ActiveGrant(ctx, u.ID, "other"); !identity.IsNotFound(err) {
		t.Errorf("ActiveGrant(none): %v; want ENOTFOUND", err)
	}
	_, err = s.UpsertGrant(ctx, "usr_missing", "app", nil, false)
	wantCode(t, "grant for unknown user", err, identity.ENOTFOUND)

	// Issuing an access token under the grant marks it used (at a minute's
	// resolution, so that busy grants are not written on every token: age
	// the recorded time first).
	q := "UPDATE grants SET last_used_at = ? WHERE id = ?"
	if s.Dialect() == store.DialectPostgres {
		q = "UPDATE grants SET last_used_at = $1 WHERE id = $2"
	}
	if _, err := s.DB().ExecContext(ctx, q, time.Now().UTC().Add(-time.Hour), g.ID); err != nil {
		t.Fatal(err)
	}
	before, _ := s.GrantByID(ctx, g.ID)
	sess := emptySession()
	sess.GrantID = g.ID
	if err := s.CreateAccessTokenSession(ctx, "at-g", newRequest("app", "req-g", sess)); err != nil {
		t.Fatal(err)
	}
	after, _ := s.GrantByID(ctx, g.ID)
	if !after.LastUsedAt.After(before.LastUsedAt) {
		t.Errorf("last_used_at %v not moved past %v by a new access token", after.LastUsedAt, before.LastUsedAt)
	}

	if _, err := s.UpsertGrant(ctx, u.ID, "other", nil, false); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeGrant(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	g3, err := s.UpsertGrant(ctx, u.ID, "app", []string{identity.ScopeReadPets}, false)
	if err != nil || g3.ID == g.ID {
		t.Errorf("consent after revocation = %+v, %v; want a new grant", g3, err)
	}
	list, total, err := s.ListGrants(ctx, identity.GrantFilter{UserID: u.ID})
	if err != nil || total != 2 || len(list) != 2 {
		t.Errorf("ListGrants(active) = %d of %d, %v; want 2", len(list), total, err)
	}
	_, total, _ = s.ListGrants(ctx, identity.GrantFilter{UserID: u.ID, IncludeRevoked: true})
	if total != 3 {
		t.Errorf("ListGrants(include revoked) total = %d; want 3", total)
	}
	_, total, _ = s.ListGrants(ctx, identity.GrantFilter{ClientID: "other"})
	if total != 1 {
		t.Errorf("ListGrants(client) total = %d; want 1", total)
	}

	_, err = s.RevokeGrants(ctx, identity.GrantFilter{})
	wantCode(t, "RevokeGrants without filter", err, identity.EINVALID)
	n, err := s.RevokeGrants(ctx, identity.GrantFilter{UserID: u.ID})
	if err != nil || n != 2 {
		t.Errorf("RevokeGrants(user) = %d, %v; want 2", n, err)
	}
	if _, total, _ := s.ListGrants(ctx, identity.GrantFilter{UserID: u.ID}); total != 0 {
		t.Errorf("%d active grants left after RevokeGrants", total)
	}
}

func testRevokeGrant(t *testing.T, s Storage) {
	ctx := context.Background()
	mustClient(t, s, "app")
	u := mustUser(t, s, "revoke@example.com")
	g := mustGrant(t, s, u.ID, "app")
	other := mustGrant(t, s, mustUser(t, s, "bystander@example.com").ID, "app")

	withGrant := func(grantID, jti string) *Session {
		sess := emptySession()
		sess.GrantID, sess.JTI = grantID, jti
		return sess
	}
	steps := []error{
		s.CreateAuthorizeCodeSession(ctx, "code-g", newRequest("app", "req-code", withGrant(g.ID, ""))),
		s.CreateAccessTokenSession(ctx, "at-1", newRequest("app", "req-1", withGrant(g.ID, "jti-1"))),
		s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", newRequest("app", "req-1", withGrant(g.ID, ""))),
		s.CreateAccessTokenSession(ctx, "at-2", newRequest("app", "req-2", withGrant(g.ID, "jti-2"))),
		s.CreateAccessTokenSession(ctx, "at-bystander", newRequest("app", "req-3", withGrant(other.ID, "jti-3"))),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-time.Minute)
	if err := s.RevokeGrant(ctx, g.ID); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	got, err := s.GrantByID(ctx, g.ID)
	if err != nil || got.RevokedAt == nil {
		t.Fatalf("grant after revoke = %+v, %v; want RevokedAt set", got, err)
	}
	for _, sig := range []string{"at-1", "at-2"} {
		if _, err := s.GetAccessTokenSession(ctx, sig, emptySession()); !errors.Is(err, fosite.ErrInactiveToken) {
			t.Errorf("%s after grant revoke: %v; want ErrInactiveToken", sig, err)
		}
	}
	if _, err := s.GetRefreshTokenSession(ctx, "rt-1", emptySession()); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Errorf("refresh token after grant revoke: %v; want ErrInactiveToken", err)
	}
	if _, err := s.GetAuthorizeCodeSession(ctx, "code-g", emptySession()); !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		t.Errorf("unredeemed code after grant revoke: %v; want ErrInvalidatedAuthorizeCode", err)
	}
	if _, err := s.GetAccessTokenSession(ctx, "at-bystander", emptySession()); err != nil {
		t.Errorf("another grant's token was revoked: %v", err)
	}
	revoked, err := s.ListRevokedJWTs(ctx, since)
	if err != nil || !slices.Equal(jtisOf(revoked), []string{"jti-1", "jti-2"}) {
		t.Errorf("revoked jtis = %v, %v; want [jti-1 jti-2]", jtisOf(revoked), err)
	}
	for _, r := range revoked {
		if r.ExpiresAt.Before(time.Now()) || r.RevokedAt.IsZero() {
			t.Errorf("revocation entry %+v: want the token's future expiry and a revocation time", r)
		}
	}
	if later, _ := s.ListRevokedJWTs(ctx, time.Now().Add(time.Minute)); len(later) != 0 {
		t.Errorf("ListRevokedJWTs(future since) = %v; want none", later)
	}

	if err := s.RevokeGrant(ctx, g.ID); err != nil {
		t.Errorf("revoking again: %v; want nil (idempotent)", err)
	}
	again, _ := s.GrantByID(ctx, g.ID)
	if !again.RevokedAt.Equal(*got.RevokedAt) {
		t.Errorf("second revoke moved RevokedAt from %v to %v", got.RevokedAt, again.RevokedAt)
	}
	wantCode(t, "revoke unknown grant", s.RevokeGrant(ctx, "grt_missing"), identity.ENOTFOUND)
}

// testNarrowedConsent: consenting again with fewer scopes revokes, in the
// same transaction, every token issued under the broader set (JWT ids
// listed); consenting to the same or more scopes revokes nothing.
func testNarrowedConsent(t *testing.T, s Storage) {
	ctx := context.Background()
	mustClient(t, s, "app")
	u := mustUser(t, s, "narrow@example.com")
	g, err := s.UpsertGrant(ctx, u.ID, "app", []string{"read:pets", "write:pets", "offline_access"}, true)
	if err != nil {
		t.Fatal(err)
	}
	other := mustGrant(t, s, mustUser(t, s, "bystander2@example.com").ID, "app")
	sess := func(grantID, jti string) *Session {
		se := emptySession()
		se.GrantID, se.JTI = grantID, jti
		return se
	}
	mint := func(tag string) {
		t.Helper()
		err := errors.Join(
			s.CreateAccessTokenSession(ctx, "at-"+tag, newRequest("app", "req-"+tag, sess(g.ID, "jti-"+tag))),
			s.CreateRefreshTokenSession(ctx, "rt-"+tag, "at-"+tag, newRequest("app", "req-"+tag, sess(g.ID, ""))),
		)
		if err != nil {
			t.Fatal(err)
		}
	}
	active := func(tag string) bool {
		_, errA := s.GetAccessTokenSession(ctx, "at-"+tag, emptySession())
		_, errR := s.GetRefreshTokenSession(ctx, "rt-"+tag, emptySession())
		if (errA == nil) != (errR == nil) {
			t.Fatalf("%s: access %v, refresh %v; want both alike", tag, errA, errR)
		}
		return errA == nil
	}
	mint("broad")
	if err := s.CreateAccessTokenSession(ctx, "at-bystander", newRequest("app", "req-b", sess(other.ID, "jti-b"))); err != nil {
		t.Fatal(err)
	}

	// The same set again, or a wider one, keeps the tokens.
	for _, scopes := range [][]string{{"write:pets", "read:pets", "offline_access"}, {"read:pets", "write:pets", "offline_access", "admin"}} {
		if _, err := s.UpsertGrant(ctx, u.ID, "app", scopes, true); err != nil {
			t.Fatal(err)
		}
		if !active("broad") {
			t.Fatalf("consent to %v revoked the grant's tokens", scopes)
		}
	}
	since := time.Now().Add(-time.Minute)
	narrowed, err := s.UpsertGrant(ctx, u.ID, "app", []string{"read:pets", "offline_access"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if narrowed.ID != g.ID || narrowed.RevokedAt != nil || !slices.Equal(narrowed.Scopes, []string{"read:pets", "offline_access"}) {
		t.Fatalf("narrowed grant %+v; want the same active grant with the new scopes", narrowed)
	}
	if active("broad") {
		t.Fatal("tokens issued under the broader scope set survived the narrowed consent")
	}
	if revoked, _ := s.ListRevokedJWTs(ctx, since); !slices.Contains(jtisOf(revoked), "jti-broad") {
		t.Errorf("revoked jtis %v lack jti-broad", jtisOf(revoked))
	}
	if _, err := s.GetAccessTokenSession(ctx, "at-bystander", emptySession()); err != nil {
		t.Errorf("another grant's token was revoked: %v", err)
	}
	// Tokens issued under the narrowed grant live on.
	mint("narrow")
	if _, err := s.UpsertGrant(ctx, u.ID, "app", []string{"offline_access", "read:pets"}, false); err != nil || !active("narrow") {
		t.Fatalf("same scopes again: %v, active=%v", err, active("narrow"))
	}
}

func testAPIKeys(t *testing.T, s Storage) {
	ctx := context.Background()
	u := mustUser(t, s, "keys@example.com")
	hash := []byte("sha256-of-the-whole-key-32-bytes")
	k := &identity.APIKey{OwnerID: u.ID, Name: "ci", Env: identity.EnvTest, Prefix: "sk_test_Ab12Cd", Hash: hash, Scopes: []string{identity.ScopeReadPets}}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	if k.ID[:4] != "key_" {
		t.Errorf("key id = %q; want key_ prefix", k.ID)
	}
	wantCode(t, "duplicate hash", s.CreateAPIKey(ctx, &identity.APIKey{OwnerID: u.ID, Env: identity.EnvTest, Prefix: "sk_test_Other1", Hash: hash}), identity.ECONFLICT)

	byHash, err := s.APIKeyByHash(ctx, hash)
	if err != nil || byHash.ID != k.ID || byHash.Prefix != "sk_test_Ab12Cd" || !slices.Equal(byHash.Scopes, k.Scopes) {
		t.Fatalf("APIKeyByHash = %+v, %v", byHash, err)
	}
	if !byHash.Active(time.Now()) {
		t.Errorf("new key not active")
	}
	if _, err := s.APIKeyByHash(ctx, []byte("unknown")); !identity.IsNotFound(err) {
		t.Errorf("APIKeyByHash(unknown): %v; want ENOTFOUND", err)
	}
	for _, ref := range []string{k.ID, "sk_test_Ab12Cd"} {
		if got, err := s.APIKeyByID(ctx, ref); err != nil || got.ID != k.ID {
			t.Errorf("APIKeyByID(%q) = %v, %v", ref, got, err)
		}
	}

	t1 := time.Now().UTC().Truncate(time.Second)
	if err := s.TouchAPIKeys(ctx, map[string]time.Time{k.ID: t1, "key_missing": t1}); err != nil {
		t.Fatalf("TouchAPIKeys: %v", err)
	}
	if err := s.TouchAPIKeys(ctx, map[string]time.Time{k.ID: t1.Add(-time.Hour)}); err != nil {
		t.Fatalf("TouchAPIKeys: %v", err)
	}
	got, _ := s.APIKeyByID(ctx, k.ID)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(t1) {
		t.Errorf("LastUsedAt = %v; want %v (never moved backwards)", got.LastUsedAt, t1)
	}

	k2 := &identity.APIKey{OwnerID: u.ID, Env: identity.EnvLive, Prefix: "sk_live_Zz99Yy", Hash: []byte("another-hash")}
	if err := s.CreateAPIKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, "sk_live_Zz99Yy"); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	revoked, _ := s.APIKeyByHash(ctx, []byte("another-hash"))
	if revoked.RevokedAt == nil || revoked.Active(time.Now()) {
		t.Errorf("revoked key still active: %+v", revoked)
	}
	wantCode(t, "revoke unknown key", s.RevokeAPIKey(ctx, "key_missing"), identity.ENOTFOUND)
	list, total, err := s.ListAPIKeys(ctx, identity.APIKeyFilter{OwnerID: u.ID})
	if err != nil || total != 1 || list[0].ID != k.ID {
		t.Errorf("ListAPIKeys(active) = %v, %d, %v; want only %s", list, total, err, k.ID)
	}
	list, total, _ = s.ListAPIKeys(ctx, identity.APIKeyFilter{OwnerID: u.ID, IncludeRevoked: true})
	if total != 2 || list[0].ID != k2.ID {
		t.Errorf("ListAPIKeys(all) total %d first %v; want 2, newest first", total, list)
	}
}

func testSigningKeys(t *testing.T, s Storage) {
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Second)
	for i, id := range []string{"kid-1", "kid-2", "kid-3"} {
		k := &identity.SigningKey{ID: id, Algorithm: "ES256", EncryptedPrivateKey: []byte("enc-" + id), PublicJWK: []byte(`{"kid":"` + id + `"}`), CreatedAt: base.Add(time.Duration(i) * time.Minute)}
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatalf("CreateSigningKey: %v", err)
		}
	}
	rsaKey := &identity.SigningKey{ID: "kid-rsa", Algorithm: "RS256", EncryptedPrivateKey: []byte("enc-rsa"), PublicJWK: []byte(`{"kid":"kid-rsa"}`), CreatedAt: base.Add(-time.Minute)}
	if err := s.CreateSigningKey(ctx, rsaKey); err != nil {
		t.Fatalf("CreateSigningKey: %v", err)
	}
	wantCode(t, "duplicate kid", s.CreateSigningKey(ctx, &identity.SigningKey{ID: "kid-1", Algorithm: "ES256", EncryptedPrivateKey: []byte("x"), PublicJWK: []byte("{}")}), identity.ECONFLICT)
	if err := s.RetireSigningKeys(ctx, "kid-3", base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListSigningKeys(ctx)
	if err != nil || len(keys) != 4 {
		t.Fatalf("ListSigningKeys = %v, %v", keys, err)
	}
	if keys[0].ID != "kid-3" || keys[0].RetiredAt != nil || string(keys[0].EncryptedPrivateKey) != "enc-kid-3" {
		t.Errorf("newest key = %+v; want kid-3, not retired", keys[0])
	}
	// Retiring the ES256 keys leaves the RS256 key current.
	if k := keys[3]; k.ID != "kid-rsa" || k.RetiredAt != nil {
		t.Errorf("oldest key = %+v; want kid-rsa, not retired", k)
	}
	for _, k := range keys[1:3] {
		if k.RetiredAt == nil || !k.RetiredAt.Equal(base.Add(time.Hour)) {
			t.Errorf("key %s RetiredAt = %v; want %v", k.ID, k.RetiredAt, base.Add(time.Hour))
		}
	}
}

func testAudit(t *testing.T, s Storage) {
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Second)
	events := []*identity.AuditEvent{
		{Time: base, Type: "login.failure", Outcome: "failure", UserID: "usr_a", IP: "192.0.2.1", Details: map[string]string{"reason": "bad_password"}},
		{Time: base.Add(time.Second), Type: "login.success", Outcome: "success", UserID: "usr_a", ActorID: "usr_a"},
		{Time: base.Add(2 * time.Second), Type: "grant.revoke", Outcome: "success", UserID: "usr_b", ClientID: "app", ActorID: "admin"},
	}
	for _, e := range events {
		if err := s.RecordAudit(ctx, e); err != nil {
			t.Fatalf("RecordAudit: %v", err)
		}
		if e.ID == 0 {
			t.Errorf("RecordAudit did not set ID")
		}
	}
	wantCode(t, "event without type", s.RecordAudit(ctx, &identity.AuditEvent{}), identity.EINVALID)

	tests := []struct {
		name   string
		filter identity.AuditFilter
		want   []string
	}{
		{"all newest first", identity.AuditFilter{}, []string{"grant.revoke", "login.success", "login.failure"}},
		{"by type", identity.AuditFilter{Type: "login.failure"}, []string{"login.failure"}},
		{"by user", identity.AuditFilter{UserID: "usr_a"}, []string{"login.success", "login.failure"}},
		{"by client", identity.AuditFilter{ClientID: "app"}, []string{"grant.revoke"}},
		{"by outcome", identity.AuditFilter{Outcome: "success"}, []string{"grant.revoke", "login.success"}},
		{"time window", identity.AuditFilter{Since: base.Add(time.Second), Until: base.Add(2 * time.Second)}, []string{"login.success"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list, total, err := s.ListAudit(ctx, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Type)
			}
			if !slices.Equal(got, tc.want) || total != len(tc.want) {
				t.Errorf("ListAudit = %v (total %d); want %v", got, total, tc.want)
			}
		})
	}
	list, _, _ := s.ListAudit(ctx, identity.AuditFilter{Type: "login.failure"})
	if len(list) == 1 && (list[0].Details["reason"] != "bad_password" || list[0].IP != "192.0.2.1" || !list[0].Time.Equal(base)) {
		t.Errorf("event did not round-trip: %+v", list[0])
	}
}

func testDeleteExpired(t *testing.T, s Storage) {
	ctx := context.Background()
	mustClient(t, s, "app")
	now := time.Now().UTC()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	mk := func(at time.Time, jti string) *Session {
		sess := emptySession()
		expireAll(sess, at)
		sess.JTI = jti
		return sess
	}
	for i := range 7 {
		sig := fmt.Sprintf("old-%d", i)
		steps := []error{
			s.CreateAuthorizeCodeSession(ctx, sig, newRequest("app", sig, mk(past, ""))),
			s.CreatePKCERequestSession(ctx, sig, newRequest("app", sig, mk(past, ""))),
			s.CreateAccessTokenSession(ctx, sig, newRequest("app", sig, mk(past, "jti-"+sig))),
			s.CreateRefreshTokenSession(ctx, sig, sig, newRequest("app", sig, mk(past, ""))),
		}
		if err := errors.Join(steps...); err != nil {
			t.Fatal(err)
		}
	}
	steps := []error{
		s.CreateAuthorizeCodeSession(ctx, "live", newRequest("app", "live", mk(future, ""))),
		s.CreatePKCERequestSession(ctx, "live", newRequest("app", "live", mk(future, ""))),
		s.CreateAccessTokenSession(ctx, "live", newRequest("app", "live", mk(future, "jti-live"))),
		s.CreateRefreshTokenSession(ctx, "live", "live", newRequest("app", "live", mk(future, ""))),
		s.RecordAudit(ctx, &identity.AuditEvent{Time: now.Add(-100 * 24 * time.Hour), Type: "ancient"}),
		s.RecordAudit(ctx, &identity.AuditEvent{Time: now, Type: "recent"}),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	// Revocation-list entries: the old tokens' jtis expire in the past.
	for i := range 7 {
		if err := s.RevokeAccessToken(ctx, fmt.Sprintf("old-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeAccessToken(ctx, "live"); err != nil {
		t.Fatal(err)
	}

	removed, err := s.DeleteExpired(ctx, now, 3)
	if err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	want := map[string]int64{
		"authorize_codes": 7, "pkce_requests": 7, "access_tokens": 7, "refresh_tokens": 7,
		"revoked_jwts": 7, "audit_events": 1,
	}
	for table, n := range want {
		if removed[table] != n {
			t.Errorf("removed[%s] = %d; want %d (all: %v)", table, removed[table], n, removed)
		}
	}
	if _, err := s.GetAuthorizeCodeSession(ctx, "live", emptySession()); err != nil {
		t.Errorf("live code deleted: %v", err)
	}
	if _, err := s.GetPKCERequestSession(ctx, "live", emptySession()); err != nil {
		t.Errorf("live PKCE request deleted: %v", err)
	}
	if _, err := s.GetRefreshTokenSession(ctx, "live", emptySession()); err != nil {
		t.Errorf("live refresh token deleted: %v", err)
	}
	if _, err := s.GetAccessTokenSession(ctx, "live", emptySession()); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Errorf("live (revoked) access token: %v; want it kept, inactive", err)
	}
	if revoked, _ := s.ListRevokedJWTs(ctx, timeZero); !slices.Equal(jtisOf(revoked), []string{"jti-live"}) {
		t.Errorf("revocation list after cleanup = %v; want [jti-live]", jtisOf(revoked))
	}
	if list, _, _ := s.ListAudit(ctx, identity.AuditFilter{}); len(list) != 1 || list[0].Type != "recent" {
		t.Errorf("audit after cleanup = %v; want only the recent event", list)
	}
	again, err := s.DeleteExpired(ctx, now, 3)
	if err != nil || len(again) != 0 {
		t.Errorf("second DeleteExpired = %v, %v; want nothing removed", again, err)
	}
}

func testStats(t *testing.T, s Storage) {
	ctx := context.Background()
	mustClient(t, s, "app")
	mustClient(t, s, "other")
	u := mustUser(t, s, "stats@example.com")
	mustUser(t, s, "stats2@example.com")
	g := mustGrant(t, s, u.ID, "app")
	mustGrant(t, s, u.ID, "other")
	if err := s.RevokeGrant(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	old := newRequest("app", "req-old", nil)
	old.RequestedAt = time.Now().Add(-2 * time.Hour)
	steps := []error{
		s.CreateAccessTokenSession(ctx, "at-old", old),
		s.CreateAccessTokenSession(ctx, "at-new", newRequest("app", "req-new", nil)),
		s.RecordAudit(ctx, &identity.AuditEvent{Type: "login.failure", Time: time.Now().Add(-2 * time.Hour)}),
		s.RecordAudit(ctx, &identity.AuditEvent{Type: "login.failure"}),
		s.RecordAudit(ctx, &identity.AuditEvent{Type: "login.success"}),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := store.Stats{Clients: 2, Users: 2, ActiveGrants: 1, TokensIssuedSince: 1, FailedLoginsSince: 1}
	if st != want {
		t.Errorf("Stats = %+v; want %+v", st, want)
	}
}

// testClientAllowedOrigins: a public client's CORS origins survive create,
// list and update, and a client without any reads back as none.
func testClientAllowedOrigins(t *testing.T, s Storage) {
	ctx := context.Background()
	spa := &identity.Client{ID: "spa", Name: "SPA", Public: true,
		RedirectURIs:   []string{"https://spa.example/cb"},
		GrantTypes:     []string{identity.GrantAuthorizationCode},
		AllowedOrigins: []string{"https://static.example", "http://127.0.0.1:5173"},
		TokenFormat:    identity.TokenFormatOpaque}
	if err := s.CreateClient(ctx, spa); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	mustClient(t, s, "plain")
	got, err := s.ClientByID(ctx, "spa")
	if err != nil || !slices.Equal(got.AllowedOrigins, spa.AllowedOrigins) {
		t.Fatalf("ClientByID = %+v, %v; want allowed origins %v", got, err, spa.AllowedOrigins)
	}
	if plain, _ := s.ClientByID(ctx, "plain"); plain == nil || plain.AllowedOrigins != nil {
		t.Errorf("client without allowed origins reads back %+v", plain)
	}
	list, _, err := s.ListClients(ctx, identity.ClientFilter{})
	if err != nil || len(list) != 2 || list[1].ID != "spa" || !slices.Equal(list[1].AllowedOrigins, spa.AllowedOrigins) {
		t.Fatalf("ListClients = %+v, %v", list, err)
	}
	got.AllowedOrigins = []string{"https://new.example"}
	if err := s.UpdateClient(ctx, got); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	if again, _ := s.ClientByID(ctx, "spa"); again == nil || !slices.Equal(again.AllowedOrigins, []string{"https://new.example"}) {
		t.Errorf("after update: %+v", again)
	}
	got.AllowedOrigins = nil
	if err := s.UpdateClient(ctx, got); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	if again, _ := s.ClientByID(ctx, "spa"); again == nil || again.AllowedOrigins != nil {
		t.Errorf("after clearing: %+v", again)
	}
}

// testClientLogoutSettings: the OpenID Connect logout settings (00011)
// survive create and update, and a client without them reads back none.
func testClientLogoutSettings(t *testing.T, s Storage) {
	ctx := context.Background()
	rp := &identity.Client{ID: "rp", Name: "RP", RedirectURIs: []string{"https://rp.example/cb"},
		GrantTypes:             []string{identity.GrantAuthorizationCode},
		PostLogoutRedirectURIs: []string{"https://rp.example/bye", "https://rp.example/bye?x=1"},
		BackchannelLogoutURI:   "https://rp.example/backchannel", BackchannelLogoutSessionRequired: true,
		TokenFormat: identity.TokenFormatOpaque}
	if err := s.CreateClient(ctx, rp); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	mustClient(t, s, "plain")
	got, err := s.ClientByID(ctx, "rp")
	if err != nil || !slices.Equal(got.PostLogoutRedirectURIs, rp.PostLogoutRedirectURIs) ||
		got.BackchannelLogoutURI != rp.BackchannelLogoutURI || !got.BackchannelLogoutSessionRequired {
		t.Fatalf("ClientByID = %+v, %v", got, err)
	}
	if plain, _ := s.ClientByID(ctx, "plain"); plain == nil || plain.PostLogoutRedirectURIs != nil || plain.BackchannelLogoutURI != "" {
		t.Errorf("client without logout settings reads back %+v", plain)
	}
	got.PostLogoutRedirectURIs, got.BackchannelLogoutURI, got.BackchannelLogoutSessionRequired = nil, "", false
	if err := s.UpdateClient(ctx, got); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	if again, _ := s.ClientByID(ctx, "rp"); again == nil || again.PostLogoutRedirectURIs != nil || again.BackchannelLogoutURI != "" || again.BackchannelLogoutSessionRequired {
		t.Errorf("after clearing: %+v", again)
	}
}

// testClientDisableEnable: disabling a client revokes its tokens; a token
// issued while it was disabled (by a replica whose client cache had not
// seen the change yet) is revoked when the client is enabled again, not
// revived; tokens issued after enabling live, and other clients' tokens
// are never touched.
func testClientDisableEnable(t *testing.T, s Storage) {
	ctx := context.Background()
	c := mustClient(t, s, "app")
	mustClient(t, s, "other")
	create := func(client, sig string) {
		t.Helper()
		sess := emptySession()
		sess.JTI = "jti-" + sig
		if err := s.CreateAccessTokenSession(ctx, sig, newRequest(client, "req-"+sig, sess)); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateRefreshTokenSession(ctx, "rt-"+sig, sig, newRequest(client, "req-"+sig, emptySession())); err != nil {
			t.Fatal(err)
		}
	}
	active := func(sig string) bool {
		t.Helper()
		_, err := s.GetAccessTokenSession(ctx, sig, emptySession())
		_, rerr := s.GetRefreshTokenSession(ctx, "rt-"+sig, emptySession())
		if (err == nil) != (rerr == nil) {
			t.Errorf("%s: access token err %v, refresh token err %v; want both active or both revoked", sig, err, rerr)
		}
		if err != nil && !errors.Is(err, fosite.ErrInactiveToken) {
			t.Fatalf("%s: %v", sig, err)
		}
		return err == nil
	}
	setDisabled := func(d bool) {
		t.Helper()
		c.Disabled = d
		if err := s.UpdateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	create("app", "before")
	create("other", "bystander")
	setDisabled(true)
	create("app", "while") // a replica with a stale client cache
	setDisabled(false)
	// (A disabled client's tokens are not even readable; look now.)
	if active("before") {
		t.Error("a token issued before the client was disabled is active again")
	}
	if active("while") {
		t.Error("a token issued while the client was disabled came back when it was enabled")
	}
	create("app", "after")
	setDisabled(false) // an ordinary update of an enabled client
	if !active("after") {
		t.Error("an update of an enabled client revoked its tokens")
	}
	if !active("bystander") {
		t.Error("another client's token was revoked")
	}
}
