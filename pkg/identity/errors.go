package identity

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP edge (pkg/httpx) maps each to one status.
const (
	ECONFLICT       = "conflict"        // unique constraint, e.g. email taken
	EINTERNAL       = "internal"        // a bug or an unavailable dependency
	EINVALID        = "invalid"         // the caller sent something malformed
	ENOTFOUND       = "not_found"       // no such entity
	EUNAUTHORIZED   = "unauthorized"    // no or bad credentials
	EFORBIDDEN      = "forbidden"       // credentials fine, permission missing
	ERATELIMITED    = "rate_limited"    // too many attempts
	EUNAVAILABLE    = "unavailable"     // database down, overload
	ENOTIMPLEMENTED = "not_implemented" // a feature switched off by configuration
)

// Error is an application error with a machine-readable code and a message
// that is safe to show to the caller.
type Error struct {
	Code    string
	Message string
	// Fields, when set, are the same problems keyed by the input field
	// they concern (e.g. Client.Validate's Field* names), so a form can
	// show each next to its field.
	Fields map[string][]string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the caller-safe message of err; internal errors get a
// generic text so that no detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "Internal error."
	}
}

// FieldErrors returns the problems of err keyed by field (Error.Fields),
// or nil when it names no field.
func FieldErrors(err error) map[string][]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// IsNotFound reports whether err carries ENOTFOUND.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
