package provider

import (
	"encoding/json"
	"net/http"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Metadata is the RFC 8414 document; it states exactly what the server does.
func (p *Provider) Metadata() map[string]any {
	m := map[string]any{
		"issuer":                                        p.Issuer,
		"authorization_endpoint":                        p.Issuer + "/oauth2/auth",
		"token_endpoint":                                p.Issuer + "/oauth2/token",
		"revocation_endpoint":                           p.Issuer + "/oauth2/revoke",
		"introspection_endpoint":                        p.Issuer + "/oauth2/introspect",
		"jwks_uri":                                      p.Issuer + "/.well-known/jwks.json",
		"scopes_supported":                              scopeNames(),
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"grant_types_supported":                         []string{"authorization_code", "refresh_token", "client_credentials", identity.GrantDeviceCode},
		"device_authorization_endpoint":                 p.Issuer + "/oauth2/device/auth",
		"token_endpoint_auth_methods_supported":         []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"revocation_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		// RFC 7523 client assertions (client_assertion.go).
		"token_endpoint_auth_signing_alg_values_supported":         assertionAlgs,
		"revocation_endpoint_auth_signing_alg_values_supported":    assertionAlgs,
		"introspection_endpoint_auth_signing_alg_values_supported": assertionAlgs,
		"code_challenge_methods_supported":                         []string{"S256"},
		"authorization_response_iss_parameter_supported":           true,
		// OIDC Discovery §3; the values pkg/web honours (web.PromptValues).
		"prompt_values_supported": []string{"none", "login", "consent", "select_account"},
		"service_documentation":   p.Issuer + "/",
		// OpenID Connect RP-Initiated Logout 1.0 §2.1 (pkg/web) and
		// Back-Channel Logout 1.0 §2.1: logout tokens carry sid when the
		// session is known (BackchannelWorker).
		"end_session_endpoint":                 p.Issuer + "/oauth2/logout",
		"backchannel_logout_supported":         true,
		"backchannel_logout_session_supported": true,
		// RFC 9449 §5.1.
		"dpop_signing_alg_values_supported": dpopAlgs,
		// RFC 9126 §5.
		"pushed_authorization_request_endpoint": p.Issuer + "/oauth2/par",
		"require_pushed_authorization_requests": p.cfg.RequirePAR,
		// Not registered: the client profiles (client create --profile)
		// and what each enforces (identity.FAPI2ProfileRules).
		"petstore_client_profiles": map[string][]string{identity.ProfileFAPI2: identity.FAPI2ProfileRules},
	}
	if p.cfg.ClientIDMetadataDocuments {
		m["client_id_metadata_document_supported"] = true
	}
	if p.registrationEnabled() {
		m["registration_endpoint"] = p.Issuer + "/oauth2/register"
	}
	return m
}

// IDTokenClaims are the claims of our ID tokens and UserInfo answers
// (OIDC Discovery §3 claims_supported): the ID token's (OIDC Core §2, plus
// sid from Back-Channel Logout §2.4), then the profile and email claims
// UserInfo gives (userinfo.go).
var IDTokenClaims = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "amr", "azp",
	"name", "updated_at", "email", "email_verified"}

// OpenIDConfiguration is the OpenID Connect Discovery 1.0 document (§3):
// Metadata (every member the same) plus the OpenID Connect members.
func (p *Provider) OpenIDConfiguration() map[string]any {
	m := p.Metadata()
	m["userinfo_endpoint"] = p.Issuer + "/oauth2/userinfo"
	m["id_token_signing_alg_values_supported"] = idTokenAlgs
	m["subject_types_supported"] = []string{"public"}
	m["claims_supported"] = IDTokenClaims
	m["claim_types_supported"] = []string{"normal"}
	// Not built: the claims request parameter (OIDC Core §5.5) and request
	// objects (§6); fosite refuses request and request_uri.
	m["claims_parameter_supported"] = false
	m["request_parameter_supported"] = false
	m["request_uri_parameter_supported"] = false
	return m
}

func scopeNames() []string {
	var out []string
	for _, s := range identity.Scopes {
		out = append(out, s.Name)
	}
	return out
}

// handleMetadata serves Metadata (RFC 8414 §3), cacheable and readable
// from any origin.
func (p *Provider) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	writeMetadata(w, p.Metadata())
}

// handleOpenIDConfiguration serves OpenIDConfiguration (OIDC Discovery
// §4), like handleMetadata.
func (p *Provider) handleOpenIDConfiguration(w http.ResponseWriter, _ *http.Request) {
	writeMetadata(w, p.OpenIDConfiguration())
}

func writeMetadata(w http.ResponseWriter, doc map[string]any) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(doc)
}
