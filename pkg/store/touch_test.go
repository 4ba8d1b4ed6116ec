package store

import (
	"testing"
	"time"
)

// TestTouchMemo: a row's last-used write is due once per interval per
// process, again after it, and again when the clock went back.
func TestTouchMemo(t *testing.T) {
	var m touchMemo
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		id   string
		at   time.Duration
		want bool
	}{
		{"a", 0, true},
		{"a", 30 * time.Second, false},
		{"b", 30 * time.Second, true},
		{"a", 61 * time.Second, true},
		{"a", 90 * time.Second, false},
		{"a", 10 * time.Second, true}, // clock went back
	}
	for i, s := range steps {
		if got := m.due(s.id, t0.Add(s.at), time.Minute); got != s.want {
			t.Errorf("step %d: due(%s, +%v) = %v, want %v", i, s.id, s.at, got, s.want)
		}
	}
}
