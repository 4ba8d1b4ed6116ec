package apikey

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func mustGenerate(t testing.TB, env string) string {
	t.Helper()
	k, err := Generate(env)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGenerateFormat(t *testing.T) {
	for _, tc := range []struct {
		env, prefix string
	}{
		{EnvLive, "sk_live_"},
		{EnvTest, "sk_test_"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			k := mustGenerate(t, tc.env)
			if !strings.HasPrefix(k, tc.prefix) || len(k) != Len {
				t.Fatalf("Generate(%q) = %q (len %d), want prefix %s and length %d", tc.env, k, len(k), tc.prefix, Len)
			}
			got, err := Parse(k)
			if err != nil || got.Env != tc.env {
				t.Fatalf("Parse(Generate(%q)) = %+v, %v", tc.env, got, err)
			}
			if other := mustGenerate(t, tc.env); other == k {
				t.Fatal("two generated keys are equal")
			}
		})
	}
}

func TestGenerateRejectsUnknownEnv(t *testing.T) {
	for _, env := range []string{"", "prod", "LIVE", "Test"} {
		if k, err := Generate(env); !errors.Is(err, ErrEnv) {
			t.Errorf("Generate(%q) = %q, %v; want ErrEnv", env, k, err)
		}
	}
}

func TestParse(t *testing.T) {
	valid := mustGenerate(t, EnvTest)
	body := valid[len("sk_test_"):]
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"valid", valid, nil},
		{"empty", "", ErrPrefix},
		{"no prefix", body, ErrPrefix},
		{"upper-case prefix", "SK_TEST_" + body, ErrPrefix},
		{"other prefix", "pk_test_" + body, ErrPrefix},
		{"unknown env", "sk_prod_" + body, ErrPrefix},
		{"truncated", valid[:Len-1], ErrLength},
		{"extra character", valid + "0", ErrLength},
		{"trailing newline", valid + "\n", ErrLength},
		{"prefix only", "sk_test_", ErrLength},
		{"underscore in body", valid[:20] + "_" + valid[21:], ErrAlphabet},
		{"non-ASCII in body", valid[:Len-2] + "é", ErrAlphabet},
		{"typo in body", flip(valid, 20), ErrChecksum},
		{"typo in checksum", flip(valid, Len-1), ErrChecksum},
		{"live prefix on test body", "sk_live_" + body, ErrChecksum},
		{"swapped characters", valid[:20] + valid[21:22] + valid[20:21] + valid[22:], ErrChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "swapped characters" && valid[20] == valid[21] {
				t.Skip("generated key has equal neighbours")
			}
			_, err := Parse(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse(%q) error = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestErrorsAreDistinct(t *testing.T) {
	errs := []error{ErrPrefix, ErrLength, ErrAlphabet, ErrChecksum}
	seen := map[string]bool{}
	for _, e := range errs {
		if seen[e.Error()] {
			t.Fatalf("duplicate error message %q", e)
		}
		seen[e.Error()] = true
	}
}

func TestHash(t *testing.T) {
	a, b := mustGenerate(t, EnvLive), mustGenerate(t, EnvLive)
	if len(Hash(a)) != 32 {
		t.Fatalf("Hash length = %d, want 32 (SHA-256)", len(Hash(a)))
	}
	if !bytes.Equal(Hash(a), Hash(a)) {
		t.Fatal("Hash is not deterministic")
	}
	if bytes.Equal(Hash(a), Hash(b)) {
		t.Fatal("different keys hash equally")
	}
	if bytes.Contains(Hash(a), []byte(a[8:20])) {
		t.Fatal("hash contains the key")
	}
}

func TestDisplayPrefix(t *testing.T) {
	k := mustGenerate(t, EnvTest)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"test key", k, k[:14]},
		{"live key", "sk_live_Ab12Cd" + strings.Repeat("x", 40), "sk_live_Ab12Cd"},
		{"not a key", "pst_at_abcdefgh", ""},
		{"too short", "sk_test_ab", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DisplayPrefix(tc.in); got != tc.want {
				t.Fatalf("DisplayPrefix(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLooksLikeKey(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"sk_live_x", true},
		{"sk_test_", true},
		{"sk_Live_x", false},
		{"pst_at_x", false},
		{"eyJhbGciOiJFUzI1NiJ9.e30.sig", false},
		{"", false},
	} {
		if got := LooksLikeKey(tc.in); got != tc.want {
			t.Errorf("LooksLikeKey(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzParse checks that Parse never panics, accepts only exact-shape keys,
// and that a single changed character of a valid key is always caught.
func FuzzParse(f *testing.F) {
	f.Add("sk_test_0000000000000000000000000000000000000000000000000")
	f.Add(mustGenerate(f, EnvLive))
	f.Add(mustGenerate(f, EnvTest))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			return
		}
		if len(s) != Len || !LooksLikeKey(s) || (k.Env != EnvLive && k.Env != EnvTest) {
			t.Fatalf("Parse accepted %q as %+v", s, k)
		}
		if !strings.HasPrefix(s, "sk_"+k.Env+"_") {
			t.Fatalf("Parse(%q) env %q disagrees with the prefix", s, k.Env)
		}
		if DisplayPrefix(s) != s[:14] {
			t.Fatalf("DisplayPrefix(%q) = %q", s, DisplayPrefix(s))
		}
		// CRC32 detects every single-character change.
		for i := len("sk_test_"); i < len(s); i++ {
			b := []byte(s)
			b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1)%len(alphabet)]
			if _, err := Parse(string(b)); err == nil {
				t.Fatalf("Parse accepted %q, a one-character change of %q", b, s)
			}
		}
	})
}
