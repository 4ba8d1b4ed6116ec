package dpop

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// Algorithms are the JWS algorithms accepted in proofs (never none or a
// MAC: the key must be asymmetric and public, RFC 9449 §4.3 items 5-6).
var Algorithms = []string{"ES256", "RS256", "EdDSA"}

// MaxProofLen bounds a proof before any parsing.
const MaxProofLen = 8192

// minRSABits refuses toy RSA keys.
const minRSABits = 2048

// ErrInvalidProof is the cause of every refusal of a proof (RFC 9449 §7.1
// invalid_dpop_proof); the wrapped text says why, for logs only.
var ErrInvalidProof = errors.New("dpop: invalid proof")

// ErrUseNonce means the proof lacked the current server nonce (RFC 9449
// §8, use_dpop_nonce): answer with a fresh DPoP-Nonce header.
var ErrUseNonce = errors.New("dpop: use the server nonce")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidProof, fmt.Sprintf(format, args...))
}

// Proof is a parsed DPoP proof JWT whose signature has been verified with
// the public key it carries.
type Proof struct {
	// JKT is the base64url RFC 7638 SHA-256 thumbprint of the proof's key:
	// the value of cnf.jkt in tokens bound to it.
	JKT      string
	Alg      string
	JTI      string
	HTM      string
	HTU      string
	IssuedAt time.Time
	ATH      string // base64url SHA-256 of the access token; "" when absent
	Nonce    string // "" when absent
}

type claims struct {
	JTI   string          `json:"jti"`
	HTM   string          `json:"htm"`
	HTU   string          `json:"htu"`
	IAT   json.RawMessage `json:"iat"`
	ATH   string          `json:"ath,omitempty"`
	Nonce string          `json:"nonce,omitempty"`
}

// Parse checks the proof JWT itself (RFC 9449 §4.3 items 2-7): one
// compact JWS, typ dpop+jwt, alg in Algorithms, a jwk header holding a
// public key of that algorithm (no private parts), a valid signature by it,
// and the claims jti, htm, htu and iat. It does not look at the request,
// the clock or any cache of proofs: that is Validator.Check. Errors wrap
// ErrInvalidProof.
//
// The compact serialisation is read here rather than by go-jose: a proof
// is new on every request, but its jwk is the client's same key every
// time, so the key is parsed, checked and thumbprinted once (keyCache) and
// only the signature is verified per proof.
func Parse(compact string) (*Proof, error) {
	if compact == "" {
		return nil, invalid("empty proof")
	}
	if len(compact) > MaxProofLen {
		return nil, invalid("proof longer than %d bytes", MaxProofLen)
	}
	h64, rest, _ := strings.Cut(compact, ".")
	p64, s64, _ := strings.Cut(rest, ".")
	if strings.Count(compact, ".") != 2 || strings.ContainsAny(compact, "{ \t\r\n=") {
		return nil, invalid("not a compact JWS")
	}
	h, err := parseHeader(h64)
	if err != nil {
		return nil, err
	}
	k, err := keys.get(h.JWK)
	if err != nil {
		return nil, err
	}
	if !k.fits(h.Alg) {
		return nil, invalid("alg %q with this jwk is not accepted (want one of %s)", h.Alg, strings.Join(Algorithms, ", "))
	}
	sig, err := base64.RawURLEncoding.DecodeString(s64)
	if err != nil || !k.verify(h.Alg, compact[:len(h64)+1+len(p64)], sig) {
		return nil, invalid("signature does not verify with the jwk header")
	}
	payload, err := base64.RawURLEncoding.DecodeString(p64)
	if err != nil {
		return nil, invalid("payload is not base64url")
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalid("claims are not a JSON object")
	}
	iat, err := parseIAT(c.IAT)
	if err != nil {
		return nil, err
	}
	if c.JTI == "" || c.HTM == "" || c.HTU == "" {
		return nil, invalid("jti, htm and htu are required")
	}
	if len(c.JTI) > 256 {
		return nil, invalid("jti too long")
	}
	return &Proof{JKT: k.jkt, Alg: h.Alg, JTI: c.JTI, HTM: c.HTM, HTU: c.HTU, IssuedAt: iat, ATH: c.ATH, Nonce: c.Nonce}, nil
}

// header is the protected header of a proof.
type header struct {
	Typ, Alg string
	JWK      json.RawMessage
}

// parseHeader decodes the protected header. Member names are matched
// exactly (encoding/json's struct matching ignores case); typ must be
// dpop+jwt, and a crit member is refused: a proof uses no JWS extension.
func parseHeader(h64 string) (header, error) {
	raw, err := base64.RawURLEncoding.DecodeString(h64)
	if err != nil {
		return header{}, invalid("header is not base64url")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return header{}, invalid("header is not a JSON object")
	}
	var h header
	_ = json.Unmarshal(m["typ"], &h.Typ)
	_ = json.Unmarshal(m["alg"], &h.Alg)
	switch _, crit := m["crit"]; {
	case h.Typ != "dpop+jwt":
		return header{}, invalid("typ is %q, want dpop+jwt", h.Typ)
	case crit:
		return header{}, invalid("crit header")
	case len(m["jwk"]) == 0 || m["jwk"][0] != '{':
		return header{}, invalid("no jwk header")
	}
	h.JWK = m["jwk"]
	return h, nil
}

// parseIAT reads iat as a JSON number of seconds.
func parseIAT(raw json.RawMessage) (time.Time, error) {
	var f float64
	if len(raw) == 0 || json.Unmarshal(raw, &f) != nil || f <= 0 || f > 1<<40 {
		return time.Time{}, invalid("iat missing or not a number")
	}
	return time.Unix(int64(f), 0), nil
}

// Thumbprint is the base64url RFC 7638 SHA-256 thumbprint of a public JWK.
func Thumbprint(jwk *jose.JSONWebKey) (string, error) {
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", invalid("jwk has no thumbprint: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// AccessTokenHash is the ath of an access token (RFC 9449 §4.2):
// base64url of its SHA-256.
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
