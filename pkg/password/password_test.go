package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		hash string
		pw   string
		want bool
	}{
		{"right password", h, "correct horse battery", true},
		{"wrong password", h, "correct horse battery!", false},
		{"empty hash", "", "correct horse battery", false},
		{"malformed hash", "$argon2id$v=19$m=1,t=1$x$y", "x", false},
		{"bcrypt hash", "$2a$10$abcdefghijklmnopqrstuv", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify(tt.hash, tt.pw); got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
	if h2, _ := Hash("correct horse battery"); h2 == h {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestCheckPolicy(t *testing.T) {
	tests := []struct {
		pw, email string
		ok        bool
	}{
		{"correct horse battery", "a@example.com", true},
		{"short", "", false},
		{"Password123", "", false},
		{"qwertyuiop", "", false},
		{"zzzzzzzzzzzz", "", false},
		{"alice@example.com", "alice@example.com", false},
		{strings.Repeat("x", MaxLength) + "y", "", false},
		{"ünïcödé-pässwörd", "", true},
	}
	for _, tt := range tests {
		if err := Check(tt.pw, tt.email); (err == nil) != tt.ok {
			t.Errorf("Check(%.20q) = %v, want ok=%v", tt.pw, err, tt.ok)
		}
	}
}

// WB-15: Argon2id with the OWASP minimum (19 MiB, 2 iterations, 1 lane), a
// 16-byte salt and a 32-byte key, as a PHC string.
func TestHashParameters(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(h, prefix) {
		t.Fatalf("hash %q does not start with %q", h, prefix)
	}
	parts := strings.Split(strings.TrimPrefix(h, prefix), "$")
	if len(parts) != 2 {
		t.Fatalf("hash %q: want salt$key", h)
	}
	salt, errS := b64.DecodeString(parts[0])
	key, errK := b64.DecodeString(parts[1])
	if errS != nil || errK != nil || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("salt %d bytes (%v), key %d bytes (%v); want 16 and 32", len(salt), errS, len(key), errK)
	}
}
