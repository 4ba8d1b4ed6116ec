package dpop

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"
	"time"
)

// DefaultWindow is how far iat may be from the server's clock, either way.
const DefaultWindow = 60 * time.Second

// Validator checks proofs against the request they came with. Set the
// fields before first use.
type Validator struct {
	// Window bounds |now - iat|; zero is DefaultWindow. The replay cache
	// keeps every jti for twice this long, the whole life of a proof.
	Window time.Duration
	// Replay remembers used proofs; nil disables the replay check (tests
	// of other parts only: every server sets one).
	Replay Replay
	// Nonces, when set, makes a server nonce required (RFC 9449 §8).
	Nonces *Nonces
	Now    func() time.Time
}

// Request is what a proof is checked against.
type Request struct {
	Method string // the HTTP method: htm must equal it
	URL    string // the public URL of the request: htu must match it once normalised
	// AccessToken, at a resource server, is the token the proof must hash
	// to (ath); "" at the token endpoint, where a proof must carry no ath.
	AccessToken string
	// JKT, when set, is the thumbprint the proof's key must have (the
	// token's cnf.jkt, or a code's dpop_jkt).
	JKT string
}

func (v *Validator) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Validator) window() time.Duration {
	if v.Window > 0 {
		return v.Window
	}
	return DefaultWindow
}

// Check parses the value of a DPoP header and checks it against req (RFC
// 9449 §4.3 items 8-12, §7.1, §8, §11.1): htm, htu, iat within Window,
// ath, the key's thumbprint, the nonce, and finally that the jti was not
// seen before. Errors wrap ErrInvalidProof or ErrUseNonce; any other error
// is a failure of the replay cache (the proof was not judged).
func (v *Validator) Check(ctx context.Context, header string, req Request) (*Proof, error) {
	p, err := Parse(header)
	if err != nil {
		return nil, err
	}
	if p.HTM != req.Method {
		return nil, invalid("htm %q does not match the request method", p.HTM)
	}
	if !SameURL(p.HTU, req.URL) {
		return nil, invalid("htu does not match the request URL")
	}
	now := v.now()
	if d := now.Sub(p.IssuedAt); d > v.window() || d < -v.window() {
		return nil, invalid("iat is outside the accepted window")
	}
	if err := checkATH(p, req.AccessToken); err != nil {
		return nil, err
	}
	if req.JKT != "" && subtle.ConstantTimeCompare([]byte(p.JKT), []byte(req.JKT)) != 1 {
		return nil, invalid("the proof's key is not the key the token is bound to")
	}
	if v.Nonces != nil && !v.Nonces.Valid(p.Nonce) {
		return nil, ErrUseNonce
	}
	if v.Replay != nil {
		fresh, err := v.Replay.Use(ctx, p.JKT+" "+p.JTI, 2*v.window())
		if err != nil {
			return nil, err
		}
		if !fresh {
			return nil, invalid("jti was used before")
		}
	}
	return p, nil
}

func checkATH(p *Proof, token string) error {
	switch {
	case token == "" && p.ATH != "":
		return invalid("ath in a proof without an access token")
	case token == "":
		return nil
	case p.ATH == "":
		return invalid("ath is required with an access token")
	case subtle.ConstantTimeCompare([]byte(p.ATH), []byte(AccessTokenHash(token))) != 1:
		return invalid("ath does not match the access token")
	}
	return nil
}

// IsProofError reports whether err is a verdict on the proof (as opposed
// to a failing replay cache).
func IsProofError(err error) bool {
	return errors.Is(err, ErrInvalidProof) || errors.Is(err, ErrUseNonce)
}

// NormalizeURL is the htu comparison form (RFC 9449 §4.3 item 9, RFC 3986
// §6.2.2-6.2.3): scheme and host in lower case, the scheme's default port
// dropped, an empty path as "/", query and fragment removed. Only absolute
// http(s) URLs normalise; ok is false otherwise.
func NormalizeURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	if port := u.Port(); port != "" && port != defaultPort[scheme] {
		host += ":" + port
	}
	// Re-encoding the decoded path normalises percent-encoding (%7e is ~).
	path := (&url.URL{Path: u.Path}).EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}

var defaultPort = map[string]string{"http": "80", "https": "443"}

// SameURL reports whether two URLs are the same htu once normalised.
func SameURL(a, b string) bool {
	na, ok := NormalizeURL(a)
	if !ok {
		return false
	}
	if a == b { // the usual case: the client signed the URL it called
		return true
	}
	nb, ok := NormalizeURL(b)
	return ok && na == nb
}
