package identity

import (
	"strings"
	"testing"
)

// TestFAPI2ProfileRegistration: a fapi2 client must be public (until
// private_key_jwt exists), an unknown profile is refused, and the profile
// implies PAR and DPoP.
func TestFAPI2ProfileRegistration(t *testing.T) {
	base := func() Client {
		return Client{ID: "fapi-app", Name: "FAPI app", RedirectURIs: []string{"https://app.example/cb"},
			GrantTypes: []string{GrantAuthorizationCode}, TokenFormat: TokenFormatOpaque, Public: true, Profile: ProfileFAPI2}
	}
	c := base()
	if err := c.Validate(); err != nil {
		t.Fatalf("public fapi2 client: %v", err)
	}
	if !c.RequiresPAR() || !c.RequiresDPoP() {
		t.Fatal("fapi2 does not imply PAR and DPoP")
	}
	c = base()
	c.Public = false
	if err := c.Validate(); err == nil || !strings.Contains(ErrorMessage(err), "private_key_jwt") {
		t.Fatalf("confidential fapi2 client with a secret: %v", err)
	}
	c = base()
	c.Public, c.TokenEndpointAuthMethod = false, AuthPrivateKeyJWT
	c.JWKS = `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}`
	if err := c.Validate(); err != nil {
		t.Fatalf("confidential fapi2 client with private_key_jwt: %v", err)
	}
	c = base()
	c.Profile = "fapi1"
	if err := c.Validate(); err == nil || !strings.Contains(ErrorMessage(err), "profile") {
		t.Fatalf("unknown profile: %v", err)
	}
	c = base()
	c.Profile = ""
	if c.RequiresPAR() || c.RequiresDPoP() {
		t.Fatal("a client without profile or flags requires PAR or DPoP")
	}
}
