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
