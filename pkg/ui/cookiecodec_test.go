package ui

import (
	"reflect"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// A session cookie set before the JSON form (gob) still opens, one set now
// opens to the same values, and values of other types are refused.
func TestSessionCookieFormats(t *testing.T) {
	st, err := newCookieStore([][]byte{secret}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := newCookieStore([][]byte{secret}, time.Hour)
	for _, c := range old.Codecs {
		c.(*securecookie.SecureCookie).SetSerializer(securecookie.GobEncoder{})
	}
	values := map[any]any{kID: "id", kSID: "psid", kUser: "usr_1", kEmail: "a@example.com", kAuthTime: int64(1700000000),
		kVersion: int64(42), kRemember: true, kCSRF: "csrf", kCreated: int64(1700000001)}
	for name, codecs := range map[string][]securecookie.Codec{"gob": old.Codecs, "json": st.Codecs} {
		enc, err := securecookie.EncodeMulti("c", values, codecs...)
		if err != nil {
			t.Fatalf("%s: encode: %v", name, err)
		}
		var got map[any]any
		if err := securecookie.DecodeMulti("c", enc, &got, st.Codecs...); err != nil || !reflect.DeepEqual(got, values) {
			t.Errorf("%s: decoded %v, %v; want %v", name, got, err, values)
		}
	}
	if _, err := securecookie.EncodeMulti("c", map[any]any{kID: 7}, st.Codecs...); err == nil {
		t.Error("a session id of type int was encoded")
	}
	if _, err := securecookie.EncodeMulti("c", map[any]any{"other": "x"}, st.Codecs...); err == nil {
		t.Error("an unknown key was encoded")
	}
}
