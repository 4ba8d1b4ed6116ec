package main

import (
	"strings"
	"testing"
	"time"
)

func TestRefusesTargetsOutsideLoopback(t *testing.T) {
	for _, tc := range []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://127.9.9.9", true},
		{"http://10.0.0.1:8080", false},
		{"https://auth.example.com", false},
		{"http://127.0.0.1.example.com", false},
	} {
		t.Run(tc.target, func(t *testing.T) {
			if err := loopbackOnly(tc.target); (err == nil) != tc.ok {
				t.Fatalf("loopbackOnly(%q) = %v, want allowed=%v", tc.target, err, tc.ok)
			}
		})
	}
	err := run(options{target: "http://192.0.2.1", apiURL: "http://127.0.0.1:1", scenario: "client_credentials", workers: 1, duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("run against a remote host: %v, want a refusal", err)
	}
}

func TestBoundsAreEnforced(t *testing.T) {
	for _, o := range []options{
		{workers: 0, duration: time.Second},
		{workers: 2000, duration: time.Second},
		{workers: 1, duration: 10 * time.Minute},
	} {
		o.target, o.apiURL, o.scenario = "http://127.0.0.1:1", "http://127.0.0.1:1", "client_credentials"
		if err := run(o); err == nil || !strings.Contains(err.Error(), "workers must be") {
			t.Fatalf("run(%d workers, %s): %v, want the bounds refused", o.workers, o.duration, err)
		}
	}
}
