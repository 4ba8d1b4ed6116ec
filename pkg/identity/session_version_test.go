package identity

import (
	"testing"
	"time"
)

// Every change that must end a session changes the version, even within
// the same second.
func TestSessionVersionChangesWithWhatEndsASession(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	base := User{ID: "usr_1", Email: "a@example.com", PasswordHash: "$argon2id$one", UpdatedAt: at}
	v := SessionVersion(&base)
	if SessionVersion(&base) != v {
		t.Fatal("not deterministic")
	}
	for name, change := range map[string]func(u *User){
		"password":         func(u *User) { u.PasswordHash = "$argon2id$two" },
		"email":            func(u *User) { u.Email = "b@example.com" },
		"disabled":         func(u *User) { u.Disabled = true },
		"admin":            func(u *User) { u.Admin = true },
		"same-second edit": func(u *User) { u.UpdatedAt = at.Add(time.Millisecond) },
	} {
		u := base
		change(&u)
		if SessionVersion(&u) == v {
			t.Errorf("%s: version unchanged", name)
		}
	}
}
