package web

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
)

// authPath is the only place return_to may lead: an authorization request.
const authPath = "/oauth2/auth"

// s256Challenge is BASE64URL(SHA256(code_verifier)) without padding.
var s256Challenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// maxReturnTo bounds the authorization request carried through login and
// consent.
const maxReturnTo = 4096

// handleAuthorize serves GET and POST /oauth2/auth (RFC 6749 §3.1):
// validate, then sign in, then ask for (or recall) consent, then redirect
// with a code.
func (h *Handler) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, ui.MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.badAuthorizeRequest(w, r, "The request could not be read.")
		return
	}
	// RFC 6749 §3.1: parameters MUST NOT appear twice. fosite takes the
	// first value silently (RD-10); refuse before anything is trusted.
	if dup, ok := duplicated(r.Form); ok {
		h.badAuthorizeRequest(w, r, "The parameter “"+dup+"” appears more than once.")
		return
	}
	returnTo := authPath + "?" + r.URL.RawQuery
	if r.Method == http.MethodPost {
		returnTo = authPath + "?" + r.Form.Encode()
	}
	if len(returnTo) > maxReturnTo {
		h.badAuthorizeRequest(w, r, "The request is too long.")
		return
	}
	ar, ok := h.parseAuthorize(w, r, r)
	if !ok {
		return
	}
	u, err := h.currentUser(w, r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if !h.checkSignIn(w, r, ar, u, returnTo) {
		return
	}
	prompt := promptOf(ar.GetRequestForm()) // validated by parseAuthorize
	requested := []string(ar.GetRequestedScopes())
	g, err := h.Grants.ActiveGrant(r.Context(), u.ID, ar.GetClient().GetID())
	switch {
	case err == nil && g.Remember && identity.HasAllScopes(g.Scopes, requested) && !prompt.consent:
		h.issue(w, r, ar, u, g, requested)
		return
	case err != nil && !identity.IsNotFound(err):
		h.internalError(w, r, err)
		return
	}
	if prompt.none {
		h.authorizeError(w, r, ar, fosite.ErrConsentRequired.WithHint("The user has not consented to these scopes and prompt=none forbids asking."))
		return
	}
	h.renderConsent(w, r, ar, u, returnTo)
}

// checkSignIn decides whether the signed-in user u (nil when signed out)
// may go on with ar (OIDC Core §3.1.2.1–3.1.2.3), and otherwise answers:
// with prompt=none login_required at the redirect URI, else the sign-in
// page (prompt=login, max_age, a different user than id_token_hint names:
// the select_account page offers to sign out first) or the select_account page.
func (h *Handler) checkSignIn(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, u *identity.User, returnTo string) bool {
	form := ar.GetRequestForm()
	p := promptOf(form)
	var hintSub string
	if hint := form.Get("id_token_hint"); hint != "" {
		c, err := h.IDTokenHint(r.Context(), hint) // not nil: parseAuthorize refused the hint otherwise
		if err != nil {
			h.log(r.Context()).Info("authorization request refused", "error", "invalid_request", "hint", "id_token_hint", "err", err)
			h.authorizeError(w, r, ar, fosite.ErrInvalidRequest.WithHint("The id_token_hint is not an ID token issued by this server."))
			return false
		}
		hintSub = c.Subject
	}
	otherUser := u != nil && hintSub != "" && hintSub != u.ID
	var why string
	switch {
	case u == nil:
		why = "The user is not signed in and prompt=none forbids asking."
	case otherUser:
		why = "The signed-in user is not the one id_token_hint names, and prompt=none forbids asking."
	case h.needsFreshSignIn(r, form):
		why = "The sign-in is older than max_age allows, and prompt=none forbids asking."
	}
	switch {
	case why != "" && p.none:
		h.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint(why))
		return false
	case otherUser:
		// Ask before signing u out: a GET alone must not end a session.
		h.renderSelectAccount(w, r, ar, u, returnTo, h.hintedEmail(r, hintSub))
		return false
	case why != "":
		h.toSignIn(w, r, ar, returnTo)
		return false
	case p.selectAccount && !h.accountConfirmed(r, form):
		h.renderSelectAccount(w, r, ar, u, returnTo, "")
		return false
	}
	return true
}

// withReauth returns returnTo with a reauthParam marker of a request
// arriving now, unless it has one or needs none (no prompt=login,
// select_account or max_age).
func (h *Handler) withReauth(r *http.Request, ar fosite.AuthorizeRequester, returnTo string) string {
	form := ar.GetRequestForm()
	p := promptOf(form)
	if form.Has(reauthParam) || !(p.login || p.selectAccount || form.Has("max_age")) {
		return returnTo
	}
	return returnTo + "&" + reauthParam + "=" + url.QueryEscape(h.reauthMarker(r))
}

// toSignIn sends the browser to the sign-in page, and back to returnTo
// after it; the marker lets a sign-in made from now on satisfy prompt=login,
// max_age and select_account, so the loop ends after one sign-in.
func (h *Handler) toSignIn(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, returnTo string) {
	returnTo = h.withReauth(r, ar, returnTo)
	if len(returnTo) > maxReturnTo {
		h.badAuthorizeRequest(w, r, "The request is too long.")
		return
	}
	http.Redirect(w, r, "/login?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
}

// selectAccountPage is the data of templates/select_account.html.
type selectAccountPage struct {
	ClientName string
	Email      string
	// Continue is the authorization request with the account confirmed.
	Continue string
	// SwitchTo is the authorization request to come back to after "Not
	// you?" signed this account out and another one in.
	SwitchTo string
	// Hinted is the account the request's id_token_hint names when it is
	// not the signed-in one: the page then offers only to sign out and
	// continue as that account (a POST: a link alone never signs anyone
	// out).
	Hinted string
}

// hintedEmail is the email of the user id_token_hint names, or a generic
// phrase when that user is gone.
func (h *Handler) hintedEmail(r *http.Request, userID string) string {
	if u, err := h.Users.UserByID(r.Context(), userID); err == nil {
		return u.Email
	}
	return "another account"
}

// renderSelectAccount shows prompt=select_account: the signed-in account
// with "Continue as …" and "Not you?" (OIDC Core §3.1.2.1).
func (h *Handler) renderSelectAccount(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, u *identity.User, returnTo, hinted string) {
	p := selectAccountPage{Hinted: hinted,
		ClientName: h.clientName(r, ar.GetClient().GetID()),
		Email:      u.Email,
		Continue:   returnTo + "&" + selectedParam + "=" + url.QueryEscape(sessionFingerprint(ui.SessionFrom(r.Context()), "select-account")),
		SwitchTo:   h.withReauth(r, ar, returnTo),
	}
	h.UI.Render(w, r, http.StatusOK, "select_account", p)
}

// consentPage is the data of templates/consent.html.
type consentPage struct {
	ClientName   string
	ClientID     string
	RedirectHost string
	Email        string
	// Identity are the OpenID Connect scopes asked for (openid, profile,
	// email), shown first under IdentitySummary.
	Identity        []consentScope
	IdentitySummary string
	Scopes          []identity.ScopeInfo
	ReturnTo        string
	// Unverified is set for a client that registered itself (RFC 7591 or
	// a client ID metadata document): the page names its host and says
	// PetStore has not checked it.
	Unverified *unverifiedClient
	// StayConnected: the app gets a refresh token with this consent
	// (self-registered clients with the refresh_token grant; provider
	// config), so the page says so as part of what the user allows.
	StayConnected bool
}

// unverifiedClient is what the consent page shows about a self-registered
// client.
type unverifiedClient struct {
	Host             string // the metadata document URL's host, else the redirect URI's
	MetadataDocument bool
	ClientID         string
}

// identityOf returns the domain client behind a fosite client, or nil.
func identityOf(c fosite.Client) *identity.Client {
	if ic, ok := c.(interface{ Identity() *identity.Client }); ok {
		return ic.Identity()
	}
	return nil
}

func unverifiedOf(c *identity.Client, redirectHost string) *unverifiedClient {
	if c == nil || !c.Unverified() {
		return nil
	}
	u := &unverifiedClient{Host: redirectHost, MetadataDocument: c.Registration == identity.RegistrationMetadataDocument, ClientID: c.ID}
	// The host shown is one the client proved: its metadata document's
	// (fetched from there), else where the code is sent. A registered
	// client_uri is only claimed, so it is not shown as the host.
	if pu, err := url.Parse(c.ID); err == nil && u.MetadataDocument && pu.Host != "" {
		u.Host = pu.Host
	}
	return u
}

func (h *Handler) renderConsent(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, u *identity.User, returnTo string) {
	p := consentPage{
		ClientName: h.clientName(r, ar.GetClient().GetID()),
		ClientID:   ar.GetClient().GetID(),
		Email:      u.Email,
		ReturnTo:   returnTo,
	}
	if ru := ar.GetRedirectURI(); ru != nil {
		p.RedirectHost = ru.Host
		ui.AllowFormTargets(w, formTargets(ru.String())...) // Allow and Deny end in a 303 there
	}
	p.Identity, p.IdentitySummary = identityScopes(ar.GetRequestedScopes())
	for _, s := range ar.GetRequestedScopes() {
		if info, ok := identity.LookupScope(s); ok && !isIdentityScope(s) {
			p.Scopes = append(p.Scopes, info)
		}
	}
	c := identityOf(ar.GetClient())
	p.Unverified = unverifiedOf(c, p.RedirectHost)
	p.StayConnected = c != nil && identity.GetsRefreshWithoutOfflineAccess(c) && !slices.Contains(ar.GetRequestedScopes(), identity.ScopeOfflineAccess)
	h.UI.Render(w, r, http.StatusOK, "consent", p)
}

// handleConsent serves POST /oauth2/consent. The authorization request is
// parsed and validated again from return_to; the form contributes only the
// decision, the ticked scopes (intersected with the requested ones) and
// "remember".
func (h *Handler) handleConsent(w http.ResponseWriter, r *http.Request) {
	returnTo := r.PostForm.Get("return_to")
	req, ok := authorizeRequestFrom(r, returnTo)
	if !ok {
		h.badAuthorizeRequest(w, r, "The consent form did not carry a valid authorization request.")
		return
	}
	ar, ok := h.parseAuthorize(w, r, req)
	if !ok {
		return
	}
	u, err := h.currentUser(w, r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	// The checks of the authorization endpoint hold until the decision:
	// signed in, as the hinted user, recently enough.
	if !h.checkSignIn(w, r, ar, u, returnTo) {
		return
	}
	clientID := ar.GetClient().GetID()
	requested := []string(ar.GetRequestedScopes())
	ticked := r.PostForm["scope"]
	var granted []string
	for _, s := range requested {
		if slices.Contains(ticked, s) {
			granted = append(granted, s)
		}
	}
	if r.PostForm.Get("decision") != "allow" || (len(requested) > 0 && len(granted) == 0) {
		h.audit(r, identity.AuditEvent{Type: "consent.denied", Outcome: "failure", UserID: u.ID, ClientID: clientID,
			Details: map[string]string{"scopes": strings.Join(requested, " ")}})
		h.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
		return
	}
	remember := r.PostForm.Get("remember") == "on"
	g, err := h.Grants.UpsertGrant(r.Context(), u.ID, clientID, granted, remember)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	details := map[string]string{"grant_id": g.ID, "scopes": strings.Join(granted, " ")}
	if remember {
		details["remember"] = "true"
	}
	h.audit(r, identity.AuditEvent{Type: "consent.granted", UserID: u.ID, ClientID: clientID, Details: details})
	h.issue(w, r, ar, u, g, granted)
}

// authorizeRequestFrom rebuilds the GET /oauth2/auth request carried in
// return_to, refusing anything but a local authorization request without
// duplicated parameters.
func authorizeRequestFrom(r *http.Request, returnTo string) (*http.Request, bool) {
	if !validReturnTo(returnTo) {
		return nil, false
	}
	u, err := url.Parse(returnTo)
	if err != nil || u.Path != authPath {
		return nil, false
	}
	q, err := url.ParseQuery(u.RawQuery)
	if _, dup := duplicated(q); err != nil || dup {
		return nil, false
	}
	req := r.Clone(r.Context())
	req.Method = http.MethodGet
	req.URL = u
	req.RequestURI = returnTo
	req.Form, req.PostForm, req.MultipartForm = nil, nil, nil
	req.Body, req.ContentLength = http.NoBody, 0
	req.Header.Del("Content-Type")
	return req, true
}

// validReturnTo accepts only our own pages as the place to send someone
// after sign-in: the account pages (/account, /account/…), the admin console
// (/admin, /admin/…), an authorization request (/oauth2/auth?…) and the
// device page (/device, /device?user_code=…). Anything
// else could be an open redirect (RFC 9700 §4.11), so it is refused: other
// paths, a scheme or host, "//" or "\" (browsers read "/\evil" as
// "//evil"), dot segments, fragments, controls and non-ASCII.
func validReturnTo(s string) bool {
	// Controls and spaces never occur in what we build (a request URI or
	// an encoded form); browsers drop some of them, which could turn a
	// path into a scheme-relative URL.
	if len(s) > maxReturnTo || !utf8.ValidString(s) || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") ||
		strings.ContainsFunc(s, func(r rune) bool {
			return r <= ' ' || unicode.IsControl(r) || unicode.IsSpace(r) || r == '\\' || r == '#'
		}) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || strings.Contains(u.Path, `\`) {
		return false
	}
	// The decoded path must be clean: "/admin/../x", "/admin/%2e%2e/x" or
	// "/admin//x" would lead elsewhere once a browser resolves it.
	if u.Path != path.Clean(u.Path) && u.Path != path.Clean(u.Path)+"/" {
		return false
	}
	switch {
	case u.Path == authPath:
		return strings.HasPrefix(s, authPath+"?") && u.RawQuery != ""
	case u.Path == "/device":
		// The device page, with the user code being confirmed (RFC 8628).
		return s == "/device" || strings.HasPrefix(s, "/device?user_code=")
	case u.Path == "/account" || strings.HasPrefix(u.Path, "/account/"),
		u.Path == "/admin" || strings.HasPrefix(u.Path, "/admin/"):
		return true
	}
	return false
}

// parseAuthorize runs fosite's validation of req plus our own policy: code
// flow only, query response mode only, no admin scope in the browser. On
// failure it has already answered.
func (h *Handler) parseAuthorize(w http.ResponseWriter, r, req *http.Request) (fosite.AuthorizeRequester, bool) {
	if err := req.ParseForm(); err != nil {
		h.badAuthorizeRequest(w, r, "The request could not be read.")
		return nil, false
	}
	ar, err := h.OAuth2.NewAuthorizeRequest(r.Context(), withoutRequestObjects(req))
	if ar != nil && ar.IsRedirectURIValid() && !registeredRedirect(ar) {
		// fosite matched a loopback URI loosely (decoded path, scheme or user
		// info ignored): no redirect there, not even with an error (RD-01).
		h.log(r.Context()).Info("authorization request refused", "error", "invalid_request", "hint", "redirect_uri is not registered")
		h.UI.Error(w, r, http.StatusBadRequest, "This sign-in link does not work",
			"The application asked us to send you to an address it has not registered, so we will not.")
		return nil, false
	}
	// fosite checks state last, after everything else has been validated;
	// its only objection to a missing state (the minimum length is 1) is
	// dropped: PKCE is required, so state is optional (DESIGN §5).
	if errors.Is(err, fosite.ErrInvalidState) && ar != nil && ar.GetState() == "" && ar.IsRedirectURIValid() {
		err = nil
	}
	if err == nil {
		form := ar.GetRequestForm()
		switch rm := form.Get("response_mode"); {
		case !ar.GetResponseTypes().ExactOne("code"):
			err = fosite.ErrUnsupportedResponseType.WithHint("Only response_type=code is supported.")
		// fosite checks PKCE only when it issues the code; checking here
		// spares the user a sign-in and consent that cannot succeed.
		case form.Get("code_challenge") == "" || form.Get("code_challenge_method") != "S256":
			err = fosite.ErrInvalidRequest.WithHint("PKCE with code_challenge_method=S256 is required.")
		// fosite does not check the challenge's form; a malformed one would
		// yield a code that no verifier can ever redeem (RFC 7636 §4.2).
		case !s256Challenge.MatchString(form.Get("code_challenge")):
			err = fosite.ErrInvalidRequest.WithHint("The code_challenge must be the 43-character base64url SHA-256 of the code_verifier.")
		case rm != "" && rm != "query":
			err = fosite.ErrUnsupportedResponseMode.WithHint("Only the query response mode is supported.")
		case ar.GetRequestedScopes().Has(identity.ScopeAdmin):
			err = fosite.ErrInvalidScope.WithHint("The admin scope cannot be granted through the browser.")
		default:
			err = unsupportedParameter(req.Form, h.IDTokenHint != nil)
			if err == nil {
				_, err = h.Resources(form["resource"], ar.GetRequestedScopes())
			}
			if err == nil {
				err = provider.CheckDPoPJKT(form.Get("dpop_jkt"))
			}
			if err == nil {
				err = h.checkPAR(req.Form, ar)
			}
		}
	}
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return nil, false
	}
	return ar, true
}

// withoutRequestObjects hides request and request_uri from fosite, which
// would process them (fetching a request_uri, reading a request object of a
// client with keys) or refuse them before validating the client and
// redirect URI; unsupportedParameter then answers request_not_supported or
// request_uri_not_supported at the redirect URI (OIDC Core §3.1.2.6).
func withoutRequestObjects(req *http.Request) *http.Request {
	if !req.Form.Has("request_uri") && !req.Form.Has("request") {
		return req
	}
	// Ours is kept: fosite loads the pushed request (RFC 9126 §4) and
	// merges it into this copy's form, leaving the request's own
	// parameters for checkPAR.
	ours := provider.IsPARRequestURI(req.Form.Get("request_uri"))
	c := req.Clone(req.Context())
	c.Form = url.Values{}
	for k, v := range req.Form {
		if (k != "request_uri" || ours) && k != "request" {
			c.Form[k] = v
		}
	}
	return c
}

// registeredRedirect reports whether the redirect_uri of ar, if any, is one
// of its client's registered URIs by our exact policy.
func registeredRedirect(ar fosite.AuthorizeRequester) bool {
	raw := ar.GetRequestForm().Get("redirect_uri")
	if raw == "" {
		return true // fosite took the one registered URI
	}
	for _, reg := range ar.GetClient().GetRedirectURIs() {
		if identity.RedirectURIMatches(reg, raw, ar.GetClient().IsPublic()) {
			return true
		}
	}
	return false
}

// authorizeError answers a failed authorization request. Until the client
// and its redirect_uri are known good, the user gets an error page and no
// redirect (RFC 6749 §4.1.2.1); after that, a 303 back to the client with
// error, state and iss.
func (h *Handler) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	if ar == nil || !ar.IsRedirectURIValid() {
		rfc := fosite.ErrorToRFC6749Error(err)
		msg := "The link that brought you here is not valid, so we cannot send you back to the application."
		if errors.Is(err, fosite.ErrInvalidClient) {
			msg = "The application that sent you here is not registered with PetStore."
		} else if strings.Contains(rfc.HintField, "redirect_uri") {
			msg = "The application asked us to send you to an address it has not registered, so we will not."
		}
		h.log(r.Context()).Info("authorization request refused", "error", rfc.ErrorField, "hint", rfc.HintField)
		if h.Dev {
			msg += " (" + rfc.ErrorField + ": " + rfc.HintField + ")" // for the developer of the client
		}
		h.UI.Error(w, r, http.StatusBadRequest, "This sign-in link does not work", msg)
		return
	}
	// fosite would answer in the requested response mode (fragment,
	// form_post with an inline script); we answer in the query only.
	if a, ok := ar.(*fosite.AuthorizeRequest); ok {
		a.ResponseMode = fosite.ResponseModeQuery
	}
	h.OAuth2.WriteAuthorizeError(r.Context(), &issWriter{ResponseWriter: w, iss: h.Issuer}, ar, err)
}

func (h *Handler) badAuthorizeRequest(w http.ResponseWriter, r *http.Request, msg string) {
	h.UI.Error(w, r, http.StatusBadRequest, "This sign-in link does not work", msg)
}

// issue grants scopes and redirects back to the client with a code, state
// and iss.
func (h *Handler) issue(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, u *identity.User, g *identity.Grant, scopes []string) {
	for _, s := range scopes {
		ar.GrantScope(s)
	}
	// The resources go with the code as its requested audience; the token
	// endpoint grants them (provider resource.go). parseAuthorize checked
	// them against the requested scopes, of which scopes is a subset.
	aud, err := h.Resources(ar.GetRequestForm()["resource"], scopes)
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	if a, ok := ar.(*fosite.AuthorizeRequest); ok {
		a.RequestedAudience = fosite.Arguments(aud)
	}
	if uri := ar.GetRequestForm().Get("request_uri"); provider.IsPARRequestURI(uri) && h.ConsumePAR != nil {
		// One code per pushed request (RFC 9126 §4): the request_uri is
		// used up here, not when the browser first arrived with it.
		if err := h.ConsumePAR(r.Context(), uri); err != nil {
			h.authorizeError(w, r, ar, fosite.ErrInvalidRequestURI.WithHint("The request_uri was used already or has expired."))
			return
		}
	}
	sess := h.NewSession(u.ID, g.ID)
	if b, ok := sess.(codeKeyBinder); ok {
		b.BindCode(ar.GetRequestForm().Get("dpop_jkt"))
	}
	if ar.GetGrantedScopes().Has(identity.ScopeOpenID) {
		stampSignIn(sess, ar.GetClient().GetID(), ui.SessionFrom(r.Context()), h.requestedAt(ar.GetRequestForm()))
	}
	resp, err := h.OAuth2.NewAuthorizeResponse(r.Context(), ar, sess)
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	resp.AddParameter("iss", h.Issuer) // RFC 9207
	h.recordIDTokenSession(r, ar.GetClient().GetID(), u.ID, g.ID, ar.GetGrantedScopes())
	if ar.GetState() == "" {
		// No state sent, none returned: "state=" breaks strict clients
		// (RFC 6749 §4.1.2: state is REQUIRED only if it was present).
		resp.GetParameters().Del("state")
	}
	h.audit(r, identity.AuditEvent{Type: "code.issued", UserID: u.ID, ClientID: ar.GetClient().GetID(),
		Details: map[string]string{"grant_id": g.ID, "scope": strings.Join(ar.GetGrantedScopes(), " ")}})
	h.OAuth2.WriteAuthorizeResponse(r.Context(), w, ar, resp)
}

// checkPAR applies RFC 9126 §4 at the authorization endpoint: a request
// with one of our request_uri values carries nothing but client_id and
// request_uri (everything else was pushed, and fosite has loaded it); a
// request that was not pushed is refused when the server or the client
// requires PAR. query is the request's own parameters.
func (h *Handler) checkPAR(query url.Values, ar fosite.AuthorizeRequester) error {
	if provider.IsPARRequestURI(query.Get("request_uri")) {
		for k := range query {
			if k != "client_id" && k != "request_uri" && k != reauthParam {
				return fosite.ErrInvalidRequest.WithHintf("With a request_uri send only client_id and request_uri; '%s' belongs in the pushed request.", k)
			}
		}
		return nil
	}
	c, ok := ar.GetClient().(interface{ Identity() *identity.Client })
	if h.RequirePAR || (ok && c.Identity().RequiresPAR()) {
		return fosite.ErrInvalidRequest.WithHint("This client must push its authorization request to the pushed_authorization_request_endpoint (RFC 9126) and send only client_id and request_uri here.")
	}
	return nil
}

// codeKeyBinder is the session of a code that can be bound to a DPoP key
// (provider.Session).
type codeKeyBinder interface{ BindCode(jkt string) }

// issWriter adds iss (RFC 9207) to the redirect fosite writes for an
// authorization error, which fosite does not do itself, and drops the empty
// state fosite adds when the request had none (RFC 6749 §4.1.2.1: state is
// REQUIRED only if it was present in the request).
type issWriter struct {
	http.ResponseWriter
	iss   string
	wrote bool
}

func (w *issWriter) WriteHeader(code int) {
	if !w.wrote && code >= 300 && code < 400 {
		if u, err := url.Parse(w.Header().Get("Location")); err == nil && u.Scheme != "" {
			q := u.Query()
			if q.Get("iss") == "" {
				q.Set("iss", w.iss)
			}
			if q.Get("state") == "" {
				q.Del("state")
			}
			u.RawQuery = q.Encode()
			w.Header().Set("Location", u.String())
		}
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *issWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// duplicated returns a parameter given more than once (its name may be
// empty).
func duplicated(v url.Values) (string, bool) {
	for k, vs := range v {
		if len(vs) > 1 && !identity.RepeatableParam(k) {
			return k, true
		}
	}
	return "", false
}

func (h *Handler) clientName(r *http.Request, id string) string {
	c, err := h.Clients.ClientByID(r.Context(), id)
	if err != nil || c.Name == "" {
		return id
	}
	return c.Name
}

// formTargets are the CSP sources of redirect URIs: the origin for http(s)
// (any port for loopback, which RFC 8252 lets native apps pick), the scheme
// for private-use schemes of native apps.
func formTargets(uris ...string) []string {
	var out []string
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			continue
		}
		switch {
		case u.Scheme != "http" && u.Scheme != "https":
			out = append(out, u.Scheme+":")
		case u.Hostname() == "127.0.0.1" || u.Hostname() == "::1":
			host := u.Hostname()
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
			out = append(out, u.Scheme+"://"+host+":*")
		default:
			out = append(out, u.Scheme+"://"+u.Host)
		}
	}
	return out
}
