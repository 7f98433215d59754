// Package apperr is the application's one error model. Every layer returns these errors; the web
// layer maps their Code to an HTTP status and shows Message to the person, the CLI prints Message
// and exits with status 2. Messages are written for people, in Portuguese.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error for the boundary that reports it.
type Code string

const (
	Invalid      Code = "invalid"      // bad input: 400/422, exit 2
	NotFound     Code = "not_found"    // missing or someone else's: 404
	Conflict     Code = "conflict"     // duplicate or already taken: 409
	Unauthorized Code = "unauthorized" // not signed in or bad credentials: 401
	Forbidden    Code = "forbidden"    // signed in but not allowed: 403 (or 404 where existence is secret)
	TooMany      Code = "too_many"     // throttled: 429
	Unavailable  Code = "unavailable"  // a dependency is down: 503
	Internal     Code = "internal"     // a bug: 500, message hidden
)

// Error is an error with a code and a message fit to show a person.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, for logs; never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code and message.
func New(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a code and message to a cause.
func Wrap(err error, code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of err, Internal for errors that are not ours, "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the message to show a person; internal errors get a generic one.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "Ocorreu um erro inesperado. Tente novamente em instantes."
}

// Is reports whether err carries the code.
func Is(err error, code Code) bool { return CodeOf(err) == code }
