package ui

import (
	"encoding/json"
	"errors"

	"github.com/gorilla/securecookie"
)

// cookieSerializer is the session cookie's inner format (inside
// securecookie's encryption and MAC): JSON of cookieValues behind a marker
// byte. Every signed-in page decodes the cookie, and gob, securecookie's
// default, compiles a decoder for each one — tens of µs, against a few for
// this. Cookies set before it (gob) are still read, so an upgrade signs
// no one out.
type cookieSerializer struct{}

// cookieJSON starts the JSON form: a gob stream starts with a message
// length, whose first byte is never 0x80–0xF7 (encoding/gob's uint
// encoding), so the two cannot be confused.
const cookieJSON = 0x80

// cookieValues are the session's values (the k* keys) in the JSON form.
type cookieValues struct {
	ID       string `json:"sid"`
	SID      string `json:"psid,omitempty"`
	User     string `json:"uid,omitempty"`
	Email    string `json:"email,omitempty"`
	AuthTime int64  `json:"at,omitempty"`
	Version  int64  `json:"ver,omitempty"`
	Remember bool   `json:"rem,omitempty"`
	CSRF     string `json:"csrf"`
	Created  int64  `json:"iat"`
}

var errCookieValues = errors.New("ui: session cookie values of unexpected types")

// Serialize implements securecookie.Serializer for a session's Values.
func (cookieSerializer) Serialize(src any) ([]byte, error) {
	m, ok := src.(map[any]any)
	if !ok {
		return nil, errCookieValues
	}
	var v cookieValues
	fields := map[any]any{
		kID: &v.ID, kSID: &v.SID, kUser: &v.User, kEmail: &v.Email, kAuthTime: &v.AuthTime,
		kVersion: &v.Version, kRemember: &v.Remember, kCSRF: &v.CSRF, kCreated: &v.Created,
	}
	for k, val := range m {
		ok := false
		switch p := fields[k].(type) {
		case *string:
			*p, ok = val.(string)
		case *int64:
			*p, ok = val.(int64)
		case *bool:
			*p, ok = val.(bool)
		}
		if !ok {
			return nil, errCookieValues
		}
	}
	b, err := json.Marshal(v)
	return append([]byte{cookieJSON}, b...), err
}

// Deserialize implements securecookie.Serializer: the JSON form, or gob.
func (cookieSerializer) Deserialize(src []byte, dst any) error {
	if len(src) == 0 || src[0] != cookieJSON {
		return securecookie.GobEncoder{}.Deserialize(src, dst)
	}
	m, ok := dst.(*map[any]any)
	if !ok {
		return errCookieValues
	}
	var v cookieValues
	if err := json.Unmarshal(src[1:], &v); err != nil {
		return err
	}
	*m = map[any]any{kID: v.ID, kSID: v.SID, kUser: v.User, kEmail: v.Email, kAuthTime: v.AuthTime,
		kVersion: v.Version, kRemember: v.Remember, kCSRF: v.CSRF, kCreated: v.Created}
	return nil
}
