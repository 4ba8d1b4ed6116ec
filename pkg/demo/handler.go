package demo

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"golang.org/x/oauth2"
)

// Handler is MyApp: the home page, the OAuth client flow and the calls to
// the PetStore API. Config and Pages are required.
type Handler struct {
	Config Config
	Pages  *Pages
	// Static holds the contents of static/demo, served under /static/.
	Static fs.FS
	// Client reaches the authorization server and the API (default: one
	// with a 15 s timeout).
	Client *http.Client
	Logger *slog.Logger
	Now    func() time.Time

	once     sync.Once
	rp       relyingParty
	sessions sessionStore
	cop      *http.CrossOriginProtection
	dflt     *http.Client
}

// Mount registers MyApp's routes on r. It panics without Pages: a
// misconfigured program should not start.
func (h *Handler) Mount(r *mux.Router) {
	if h.Pages == nil {
		panic("demo: Handler.Pages is required")
	}
	h.init()
	r.Handle("/", h.page(h.handleHome)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/connect", h.page(h.handleConnect)).Methods(http.MethodGet)
	r.Handle("/callback", h.page(h.handleCallback)).Methods(http.MethodGet)
	r.Handle("/pets", h.page(h.form(h.handleAddPet))).Methods(http.MethodPost)
	r.Handle("/disconnect", h.page(h.form(h.handleDisconnect))).Methods(http.MethodPost)
	r.Handle("/signout", h.page(h.form(h.handleSignOut))).Methods(http.MethodPost)
	r.Handle("/signed-out", h.page(h.handleSignedOut)).Methods(http.MethodGet)
	r.Handle("/static/{name:[A-Za-z0-9][A-Za-z0-9._-]*}", h.headers(http.HandlerFunc(h.handleStatic))).Methods(http.MethodGet, http.MethodHead)
	r.NotFoundHandler = h.page(func(w http.ResponseWriter, r *http.Request) {
		h.Pages.renderMessage(w, h.log(), http.StatusNotFound, messageData{
			Kind: "problem", Title: "Page not found", Text: "There is nothing at this address. Head back to your journal.",
		})
	})
}

func (h *Handler) init() {
	h.once.Do(func() {
		h.cop = http.NewCrossOriginProtection()
		h.cop.SetDenyHandler(http.HandlerFunc(h.denyForm))
		// Behind a proxy the Host header may differ from the public origin.
		if u, err := url.Parse(h.Config.PublicURL); err == nil && u.Host != "" {
			_ = h.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
		}
		h.dflt = &http.Client{Timeout: 15 * time.Second}
	})
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handler) client() *http.Client {
	if h.Client != nil {
		return h.Client
	}
	h.init()
	return h.dflt
}

// csp allows nothing but MyApp's own files: no inline script or style, no
// framing, forms only to MyApp, and the redirects after them only to MyApp
// and the issuer (Sign out goes on to its end_session_endpoint; browsers
// apply form-action to the redirects a form submission leads to).
func (h *Handler) csp() string {
	formAction := "'self'"
	if u, err := url.Parse(h.Config.Issuer); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " +
		"form-action " + formAction + "; frame-ancestors 'none'"
}

// headers sets the security headers of every response.
func (h *Handler) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", h.csp())
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		// The callback URL carries the code: never send it anywhere.
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if h.Config.SecureCookies() {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// page is a dynamic page: security headers, never cached.
func (h *Handler) page(f http.HandlerFunc) http.Handler {
	return h.headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		f(w, r)
	}))
}

// form guards a POST: cross-origin requests are refused, the body is
// bounded, and the session's CSRF token must match.
func (h *Handler) form(f func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
			if err := r.ParseForm(); err != nil {
				h.Pages.renderMessage(w, h.log(), http.StatusBadRequest, messageData{
					Kind: "problem", Title: "That form did not arrive", Text: "Please go back and try again.",
				})
				return
			}
			s := h.session(r)
			if s == nil || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf_token")), []byte(s.csrfToken())) != 1 {
				h.denyForm(w, r)
				return
			}
			f(w, r, s)
		})).ServeHTTP(w, r)
	}
}

func (h *Handler) denyForm(w http.ResponseWriter, r *http.Request) {
	h.Pages.renderMessage(w, h.log(), http.StatusForbidden, messageData{
		Kind: "problem", Title: "This form has expired",
		Text: "For your safety MyApp only accepts forms it showed you itself. Reload the page and try again.",
	})
}

// cookieName carries the __Host- prefix whenever the cookie is Secure: the
// browser then refuses it from subdomains and plain http.
func (h *Handler) cookieName() string {
	if h.Config.SecureCookies() {
		return "__Host-myapp_session"
	}
	return "myapp_session"
}

func (h *Handler) session(r *http.Request) *session {
	c, err := r.Cookie(h.cookieName())
	if err != nil {
		return nil
	}
	return h.sessions.get(c.Value, h.now())
}

// setCookie outlives the browser window (a connection is meant to last) for
// as long as the server keeps an idle session.
func (h *Handler) setCookie(w http.ResponseWriter, s *session) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(), Value: s.id, Path: "/", MaxAge: int(sessionIdle / time.Second),
		HttpOnly: true, Secure: h.Config.SecureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

var revokedFlash = flash{
	Kind: "problem", Title: "Connection ended",
	Text: "Your connection to PetStore was revoked or expired. Connect again.",
}

// handleHome is GET /: the invitation to connect, or the user's pets.
func (h *Handler) handleHome(w http.ResponseWriter, r *http.Request) {
	var d homeData
	s := h.session(r)
	if s == nil {
		h.Pages.renderHome(w, h.log(), d)
		return
	}
	h.setCookie(w, s) // sliding: the cookie lives as long as the session does
	d.Flash = s.takeFlash()
	if tok, _ := s.connection(); tok == nil {
		h.Pages.renderHome(w, h.log(), d)
		return
	}
	var list petList
	err := h.call(r.Context(), s, http.MethodGet, "/v1/pets", nil, &list)
	if errors.Is(err, errRevoked) {
		d.Flash = &revokedFlash
		h.Pages.renderHome(w, h.log(), d)
		return
	}
	if err != nil {
		p := h.problem(err, "see your pets")
		d.Problem = &p
	} else {
		d.PetsKnown = true
		d.MorePets = list.Next != nil && *list.Next != ""
		for _, p := range list.Pets {
			d.Pets = append(d.Pets, viewPet(p))
		}
	}
	_, scopes := s.connection()
	if who := s.identity(); who != nil {
		d.Name = who.Name
		if d.Name == "" {
			d.Name = who.Email
		}
		d.SignedIn = true
	}
	d.Connected = true
	d.CSRF = s.csrfToken()
	d.CanWrite = slices.Contains(scopes, "write:pets")
	for _, sc := range scopes {
		d.Scopes = append(d.Scopes, scopeView{Name: sc, Label: scopeLabel(sc)})
	}
	h.Pages.renderHome(w, h.log(), d)
}

// handleConnect is GET /connect: it starts the authorization code flow with
// a fresh state and PKCE verifier kept in the session.
func (h *Handler) handleConnect(w http.ResponseWriter, r *http.Request) {
	s := h.session(r)
	if s == nil {
		s = h.sessions.create(h.now())
		h.setCookie(w, s)
	}
	state := rand.Text() // 130 bits
	verifier := oauth2.GenerateVerifier()
	nonce := ""
	if h.openID() {
		nonce = rand.Text()
	}
	s.addPending(state, verifier, nonce, h.now())
	http.Redirect(w, r, h.Config.OAuth2().AuthCodeURL(state, h.authCodeOptions(verifier, nonce)...), http.StatusSeeOther)
}

// handleCallback is GET /callback: where PetStore sends the user back.
func (h *Handler) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s := h.session(r)
	var pending pendingAuth
	ok := false
	if s != nil {
		// Consumed whatever follows: a state is good for one answer only.
		pending, ok = s.takePending(q.Get("state"), h.now())
	}
	if !ok {
		h.callbackRefused(w, "state missing, unknown or expired")
		return
	}
	for _, k := range []string{"state", "code", "iss", "error"} {
		if len(q[k]) > 1 {
			h.callbackRefused(w, "repeated parameter "+k)
			return
		}
	}
	// RFC 9207 §2.4: PetStore advertises
	// authorization_response_iss_parameter_supported, so every answer, code
	// or error, must name it; a missing or other issuer is an attempted
	// mix-up (or a forged link) and is refused like a bad state.
	if iss := q.Get("iss"); iss != h.Config.Issuer {
		detail := "unexpected issuer"
		if !q.Has("iss") {
			detail = "missing issuer"
		}
		h.log().Warn("callback refused", "reason", detail, "iss", truncate(iss, 200))
		h.Pages.renderMessage(w, h.log(), http.StatusBadRequest, messageData{
			Kind: "problem", Title: "Connection refused",
			Text:    "The answer did not come from the PetStore server MyApp works with, so MyApp ignored it. Nothing was connected.",
			Detail:  detail,
			Connect: true,
		})
		return
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			h.Pages.renderMessage(w, h.log(), http.StatusOK, messageData{
				Kind: "notice", Title: "You chose not to connect",
				Text:    "No problem — MyApp has no access to your PetStore account. You can connect whenever you like.",
				Connect: true,
			})
			return
		}
		h.log().Info("authorization failed", "error", e)
		status := http.StatusBadRequest // the request was refused, not the server broken
		if e == "server_error" || e == "temporarily_unavailable" {
			status = http.StatusBadGateway
		}
		h.Pages.renderMessage(w, h.log(), status, messageData{
			Kind: "problem", Title: "PetStore could not connect MyApp",
			Text:    "PetStore stopped the connection. Please try again in a moment.",
			Detail:  "error: " + truncate(e, 64),
			Connect: true,
		})
		return
	}
	code := q.Get("code")
	if code == "" {
		h.callbackRefused(w, "no code")
		return
	}
	ctx, cancel := contextTimeout(r, 15*time.Second)
	defer cancel()
	tok, err := h.Config.OAuth2().Exchange(withClient(ctx, h.client()), code, oauth2.VerifierOption(pending.verifier))
	if err != nil {
		// A code PetStore refused (made up, expired, used) is a bad
		// request to MyApp; only an unreachable or failing PetStore is 502.
		status := http.StatusBadGateway
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			h.log().Warn("code exchange refused", "error", re.ErrorCode)
			if re.Response != nil && re.Response.StatusCode < 500 {
				status = http.StatusBadRequest
			}
		} else {
			h.log().Warn("code exchange failed", "err", redactErr(err))
		}
		h.Pages.renderMessage(w, h.log(), status, messageData{
			Kind: "problem", Title: "The connection did not complete",
			Text:    "PetStore did not confirm the connection. Please try again.",
			Connect: true,
		})
		return
	}
	var who *identity
	if h.openID() {
		if who, err = h.verifyIDToken(ctx, tok, pending.nonce); err != nil {
			h.log().Warn("ID token refused", "err", redactErr(err))
			h.Pages.renderMessage(w, h.log(), http.StatusBadGateway, messageData{
				Kind: "problem", Title: "Sign-in could not be verified",
				Text:    "PetStore's answer did not prove who signed in, so MyApp did not sign you in. Please try again.",
				Connect: true,
			})
			return
		}
	}
	s = h.sessions.rotate(s, h.now())
	h.setCookie(w, s)
	scopes := grantedScopes(tok, h.Config.Scopes)
	s.setToken(tok, scopes)
	s.setIdentity(who)
	if who != nil {
		s.setFlash(flash{Kind: "notice", Title: "Signed in", Text: "You signed in with your PetStore account."})
	} else {
		s.setFlash(flash{Kind: "notice", Title: "Connected", Text: "MyApp is now connected to your PetStore account."})
	}
	h.log().Info("connected to PetStore", "scopes", strings.Join(scopes, " "))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (h *Handler) callbackRefused(w http.ResponseWriter, why string) {
	h.log().Info("callback refused", "reason", why)
	h.Pages.renderMessage(w, h.log(), http.StatusBadRequest, messageData{
		Kind: "problem", Title: "This link cannot be used",
		Text: "MyApp could not match this answer to a connection you started here — it may be old, " +
			"opened in another browser, or not from you. Nothing was connected. Start again if you want to connect.",
		Connect: true,
	})
}

// handleAddPet is POST /pets.
func (h *Handler) handleAddPet(w http.ResponseWriter, r *http.Request, s *session) {
	p, problem := parsePet(r.PostForm)
	if problem != "" {
		s.setFlash(flash{Kind: "problem", Title: "Check the form", Text: problem})
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	err := h.call(r.Context(), s, http.MethodPost, "/v1/pets", p, nil)
	switch {
	case errors.Is(err, errRevoked):
		s.setFlash(revokedFlash)
	case err != nil:
		s.setFlash(h.problem(err, "add a pet"))
	default:
		s.setFlash(flash{Kind: "notice", Title: "Pet added", Text: p.Name + " is now in your PetStore account."})
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func parsePet(f url.Values) (newPet, string) {
	p := newPet{Name: strings.TrimSpace(f.Get("name")), Species: strings.ToLower(strings.TrimSpace(f.Get("species")))}
	age, err := strconv.Atoi(strings.TrimSpace(f.Get("age")))
	switch {
	case p.Name == "" || utf8.RuneCountInString(p.Name) > 60:
		return p, "Give your pet a name of up to 60 characters."
	case p.Species == "" || utf8.RuneCountInString(p.Species) > 40:
		return p, "Say what kind of animal it is (up to 40 characters)."
	case err != nil || age < 0 || age > 200:
		return p, "The age is a whole number of years, from 0 to 200."
	}
	p.Age = age
	return p, ""
}

// handleDisconnect is POST /disconnect: revoke at PetStore, forget locally.
func (h *Handler) handleDisconnect(w http.ResponseWriter, r *http.Request, s *session) {
	tok := s.dropToken()
	if tok == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	var errs []error
	// Revoking the refresh token ends the whole grant; the access token
	// is revoked too in case the server keeps them apart.
	if tok.RefreshToken != "" {
		errs = append(errs, h.revoke(r.Context(), tok.RefreshToken, "refresh_token"))
	}
	errs = append(errs, h.revoke(r.Context(), tok.AccessToken, "access_token"))
	if err := errors.Join(errs...); err != nil {
		h.log().Warn("revocation failed", "err", err)
		s.setFlash(flash{
			Kind: "problem", Title: "Disconnected here, but not at PetStore",
			Text: "MyApp forgot your connection, but PetStore could not be reached to revoke it. " +
				"To be sure, remove MyApp from the connected apps in your PetStore account.",
		})
	} else {
		h.log().Info("disconnected from PetStore")
		s.setFlash(flash{Kind: "notice", Title: "Disconnected",
			Text: "MyApp no longer has access to your PetStore account."})
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// problem turns an API failure into words for the user. doing completes
// "MyApp could not …".
func (h *Handler) problem(err error, doing string) flash {
	var ue *unreachableError
	var ae *apiError
	switch {
	case errors.As(err, &ue) && ue.Service == "auth":
		return flash{Kind: "problem", Title: "PetStore is not answering",
			Text: "MyApp could not " + doing + ": PetStore's sign-in service cannot be reached right now. Try again in a moment."}
	case errors.As(err, &ue):
		h.log().Warn("PetStore API unavailable", "err", redactErr(ue.Err))
		return flash{Kind: "problem", Title: "PetStore is not answering",
			Text: "MyApp could not " + doing + ": the PetStore API cannot be reached right now. Try again in a moment."}
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		return flash{Kind: "problem", Title: "Permission missing",
			Text: "MyApp could not " + doing + ": you did not give it that permission. Disconnect and connect again to grant it."}
	case errors.As(err, &ae):
		text := "MyApp could not " + doing + ": PetStore refused the request."
		if ae.Message != "" {
			text += " PetStore said: “" + truncate(ae.Message, 200) + "”"
		}
		return flash{Kind: "problem", Title: "PetStore said no", Text: text}
	}
	h.log().Error("PetStore call failed", "err", err)
	return flash{Kind: "problem", Title: "Something went wrong", Text: "MyApp could not " + doing + ". Try again in a moment."}
}

// handleStatic is GET /static/{name}: the files of static/demo.
func (h *Handler) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	if h.Static == nil {
		http.NotFound(w, r)
		return
	}
	if st, err := fs.Stat(h.Static, name); err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	http.ServeFileFS(w, r, h.Static, name)
}

var scopeLabels = map[string]string{
	"read:pets":      "See your pets",
	"write:pets":     "Add pets for you",
	"offline_access": "Stay connected while you are away",
	"openid":         "Know who you are",
	"profile":        "See your name",
	"email":          "See your email address",
}

func scopeLabel(s string) string {
	if l, ok := scopeLabels[s]; ok {
		return l
	}
	return s
}

func viewPet(p Pet) petView {
	v := petView{Name: p.Name, Species: capitalize(p.Species), Age: p.Age}
	if r, _ := utf8.DecodeRuneInString(strings.TrimSpace(p.Name)); r != utf8.RuneError {
		v.Initial = strings.ToUpper(string(r))
	}
	switch k := strings.ToLower(p.Species); k {
	case "dog", "cat", "bird", "fish", "rabbit":
		v.Kind = k
	default:
		v.Kind = "other"
	}
	if !p.CreatedAt.IsZero() {
		v.Added = p.CreatedAt.Format("2 Jan 2006")
	}
	return v
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
