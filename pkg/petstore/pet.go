package petstore

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Pet is one animal owned by one principal.
type Pet struct {
	ID        string    `json:"id"`
	Owner     string    `json:"-"` // the principal's subject; never echoed
	Name      string    `json:"name"`
	Species   string    `json:"species"`
	Age       int       `json:"age"`
	CreatedAt time.Time `json:"created_at"`
}

// Species a pet may have.
var Species = []string{"dog", "cat", "bird", "fish", "rabbit", "other"}

// Limits on a pet's fields.
const (
	MaxNameLen = 100 // characters, after trimming
	MaxAge     = 100
)

// ErrNotFound: no such pet for this owner.
var ErrNotFound = errors.New("petstore: pet not found")

// ValidationError lists what is wrong with a new pet, every problem at once.
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string { return strings.Join(e.Problems, "; ") }

// Normalize trims the name and checks every field.
func (p *Pet) Normalize() error {
	var problems []string
	p.Name = strings.TrimSpace(p.Name)
	switch n := utf8.RuneCountInString(p.Name); {
	case !utf8.ValidString(p.Name):
		problems = append(problems, "name must be valid UTF-8")
	case n == 0:
		problems = append(problems, "name is required")
	case n > MaxNameLen:
		problems = append(problems, fmt.Sprintf("name must be at most %d characters", MaxNameLen))
	case strings.ContainsFunc(p.Name, isControl):
		problems = append(problems, "name must not contain control characters")
	}
	if !validSpecies(p.Species) {
		problems = append(problems, "species must be one of "+strings.Join(Species, ", "))
	}
	if p.Age < 0 || p.Age > MaxAge {
		problems = append(problems, fmt.Sprintf("age must be between 0 and %d", MaxAge))
	}
	if problems != nil {
		return &ValidationError{Problems: problems}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func validSpecies(s string) bool {
	for _, v := range Species {
		if s == v {
			return true
		}
	}
	return false
}

// idEncoding sorts like the bytes it encodes, so ids sort by creation time.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// ids remembers the last id so that ids made in the same millisecond still
// sort in creation order (the ULID monotonic rule).
var ids struct {
	sync.Mutex
	last [16]byte
}

// newID returns "pet_" + 26 characters: 48 bits of milliseconds then 80
// random bits (the previous id plus one within a millisecond). Ids are
// unguessable and ordered by creation, which makes them usable as
// pagination cursors.
func newID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	ids.Lock()
	defer ids.Unlock()
	if bytes.Equal(b[:6], ids.last[:6]) {
		b = ids.last
		for i := 15; i >= 6; i-- { // +1 on the 80-bit random part
			if b[i]++; b[i] != 0 {
				break
			}
		}
	} else {
		_, _ = rand.Read(b[6:])
	}
	ids.last = b
	return "pet_" + idEncoding.EncodeToString(b[:])
}

// validID reports whether s could be an id newID made; anything else is
// answered 404 without a query.
func validID(s string) bool {
	if len(s) != 30 || !strings.HasPrefix(s, "pet_") {
		return false
	}
	for _, c := range s[4:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'v') {
			return false
		}
	}
	return true
}
