// Package web serves the pages a person sees when an app says "Connect with
// PetStore":
//
//	GET      /                    the welcome page; /account when signed in
//	GET|POST /oauth2/auth         validate (fosite) → sign in → consent → 303 with code, state, iss
//	GET|POST /login               email + password; failures throttled per account and address
//	POST     /logout              ends the session
//	POST     /oauth2/consent      the consent form; re-validates the request from return_to
//	GET      /account             connected apps, API keys, signed-in browsers
//	POST     /account/grants/{id}/revoke, /account/keys, /account/keys/{id}/revoke
//	POST     /account/sessions/{sid}/end, /account/sessions/end-all ("Sign out everywhere")
//	GET      /static/…            CSS, logo, app.js (pkg/ui's Static)
//
// Errors in an authorization request before the client and its redirect_uri
// are validated show an error page and never redirect; later errors go back
// to the client as error, state and iss (RFC 9207). Duplicated parameters
// are refused (RFC 6749 §3.1). The consent form carries the original request
// as return_to, which is parsed and validated again: only the decision, the
// ticked scopes (intersected with the requested ones) and "remember" come
// from the form. The admin scope is never granted in the browser.
//
// OpenID Connect request parameters (OIDC Core §3.1.2.1): prompt none,
// login, consent and select_account; max_age; id_token_hint (verified by the
// IDTokenHint hook); login_hint (prefills the email). display, ui_locales,
// claims_locales, acr_values and claims are ignored; request, request_uri
// and registration are refused with their §3.1.2.6 codes and never reach
// fosite. A sign-in that prompt=login, max_age or select_account asked for
// is recognised by a marker added to return_to (petstore_reauth: when the
// request arrived, and a digest of the session live then). The code's fosite
// session gets the sign-in's auth_time, the request time and the browser
// session's sid (stampSignIn), which fosite's OpenID Connect validator and
// the ID token use.
//
// After sign-in, /login sends the user back to return_to when it is one of
// our own pages — /account…, /admin… or /oauth2/auth?… — and to /account
// otherwise (validReturnTo: no other path, scheme, host, "//", "\", dot
// segment, fragment or control character), so the login page is never an
// open redirect.
//
// Sign-in throttling follows NIST SP 800-63B §5.2.2: only failures count.
// Each attempt is charged as a failure before the password is checked, so a
// burst of parallel guesses is counted exactly, and refunded when it
// succeeds. Failures are throttled per (account, client address) and per
// address over all accounts (password spraying) with doubling waits; after
// LoginAccountCeiling consecutive failures of an account each address gets
// a single free failure, while an address without failures always reaches
// the password check, so nobody can lock the owner out. The client address
// is clientaddr.Of (the trusted proxy's forwarded address). Unknown email,
// wrong password and disabled account give the same page after the same
// Argon2id work.
//
// Sessions and CSRF come from pkg/ui. A session ends when its
// user is disabled or updated after sign-in (the session's version is the
// user's UpdatedAt), and logging out ends every copy of its cookie (pkg/ui's
// server-side session registry). The account page lists the user's live
// sessions (device from the User-Agent, address, sign-in, last seen) and
// ends one or all of them; SessionsEnded hears every sid that ends.
package web
