// Package ui is the page kit shared by the user's pages (pkg/web) and the
// admin console (pkg/admin): templates read from an fs.FS, each page parsed
// once when it is first rendered (ParseAll parses them all at once),
// buffered rendering into one shared layout, a friendly error page, the
// signed-in session (gorilla/sessions cookie, encrypted and authenticated
// with keys derived from the system secret), CSRF protection and /static.
//
// A page route is wrapped in Pages (security headers and the session) and,
// when it accepts forms, Protect (cross-origin check plus the session's
// csrf_token):
//
//	r.Handle("/login", kit.Pages(kit.Protect(h)))
//
// Every page gets a strict Content-Security-Policy (CSP). A form whose
// answer redirects to another site (an OAuth client) must call
// AllowFormTargets first: browsers enforce form-action on the redirects
// that follow a submission, and Chromium otherwise blocks them.
//
// Templates: templates/layout.html defines "layout", which every page
// executes; each other templates/**/*.html is a page named by its path
// without ".html" ("login", "admin/clients"). Files whose name starts with
// "_" are partials, shared with the pages of their directory and below.
// templates/demo/ belongs to the demo app and is skipped.
//
// Sessions live in sealed cookies. With Config.Sessions set (the server
// sets it to the store), every signed-in session is also recorded on the
// server by a hash of its id, and a cookie counts as signed in only while
// that record lives, so logging out ends every copy of the cookie and the
// store can end one session or all of a user's. Anonymous sessions are not
// recorded. A session also ends when its absolute lifetime (12 h, or 30
// days with "keep me signed in") has passed, or when the caller's Version
// check fails (the user was disabled or changed since sign-in).
package ui
