// Package logtest holds the log sink the tests read back: the servers
// under test log from their own goroutines while the test reads.
// Standard library only, so every program's tests may use it.
package logtest
