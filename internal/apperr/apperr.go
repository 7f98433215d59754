// Package apperr is the application's one error model. Every layer returns these errors: a code
// (what the boundary does with it) and a message key with arguments (what the person reads), the
// key naming a text of package locale. The text is chosen when the error is shown: the web layer
// maps the code to an HTTP status and renders the message in the request's language (pages and
// JSON API alike), the CLI prints it in pt-BR and exits with status 2. A key that is not in both
// catalogues fails the tests (locale's TestErrorKeys reads every call of New and Wrap).
package apperr

import (
	"errors"
	"fmt"

	"github.com/geniai/analytics/internal/locale"
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

// KeyInternal is the message shown for an internal error, whatever its key.
const KeyInternal = "err.internal"

// Text is an argument that is itself a catalogue key (a stage's name, what makes a password
// weak): it is translated with the message, in the same language.
type Text string

// Error is an error with a code and a message fit to show a person, as a catalogue key.
type Error struct {
	Code Code
	Key  string // a key of the locale catalogue
	Args []any  // the key's fmt arguments; a Text is translated too
	Err  error  // the cause, for logs; never shown
}

// Error is for logs: code, the pt-BR message and the cause.
func (e *Error) Error() string {
	msg := e.text(locale.PT)
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code and message key.
func New(code Code, key string, args ...any) error {
	return &Error{Code: code, Key: key, Args: args}
}

// Wrap attaches a code and message key to a cause.
func Wrap(err error, code Code, key string, args ...any) error {
	return &Error{Code: code, Key: key, Args: args, Err: err}
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

// KeyOf returns the message key of err; internal errors get KeyInternal.
func KeyOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Key
	}
	return KeyInternal
}

// Message returns the message to show a person, in lang; internal errors get a generic one.
func Message(err error, lang string) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.text(lang)
	}
	return locale.Translate(lang, KeyInternal)
}

// text is the message in lang, its Text arguments translated too.
func (e *Error) text(lang string) string {
	args := make([]any, len(e.Args))
	for i, a := range e.Args {
		if t, ok := a.(Text); ok {
			a = locale.Translate(lang, string(t))
		}
		args[i] = a
	}
	return locale.Translate(lang, e.Key, args...)
}

// Is reports whether err carries the code.
func Is(err error, code Code) bool { return CodeOf(err) == code }
