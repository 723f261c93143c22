// Package apperr is the closed set of error kinds every layer speaks. Domain
// code says what went wrong and whose fault it is; exactly one presenter at
// the GraphQL edge turns the kind into extensions.code.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error by who can act on it.
type Kind int

const (
	// KindInternal is the zero value so that an unclassified error never
	// leaks as a client error.
	KindInternal Kind = iota
	KindUnauthenticated
	KindForbidden
	KindNotFound
	KindInvalid
	KindConflict
	KindFailedPrecondition
	KindRateLimited
	// KindUnavailable: a dependency (the database) is down or saturated;
	// the same request may succeed shortly.
	KindUnavailable
)

// Code is the stable extensions.code of the kind.
func (k Kind) Code() string {
	switch k {
	case KindUnauthenticated:
		return "UNAUTHENTICATED"
	case KindForbidden:
		return "FORBIDDEN"
	case KindNotFound:
		return "NOT_FOUND"
	case KindInvalid:
		return "BAD_USER_INPUT"
	case KindConflict:
		return "CONFLICT"
	case KindFailedPrecondition:
		return "FAILED_PRECONDITION"
	case KindRateLimited:
		return "RATE_LIMITED"
	case KindUnavailable:
		return "UNAVAILABLE"
	default:
		return "INTERNAL"
	}
}

// Error is a classified error. Message is safe to show to the client; Err,
// if any, is the underlying cause and is only logged.
type Error struct {
	Kind Kind
	// Code refines the kind for clients that branch on it (e.g.
	// EMAIL_TAKEN); empty means the kind's code.
	Code string
	// Field is the input path at fault, e.g. ["input", "email"].
	Field   []string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// PublicCode is the specific code if set, otherwise the kind's code.
func (e *Error) PublicCode() string {
	if e.Code != "" {
		return e.Code
	}
	return e.Kind.Code()
}

// WithCode returns a copy carrying a specific code.
func (e *Error) WithCode(code string) *Error {
	c := *e
	c.Code = code
	return &c
}

// WithField returns a copy naming the input path at fault.
func (e *Error) WithField(path ...string) *Error {
	c := *e
	c.Field = path
	return &c
}

// As finds the classified error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf is the kind of err; unclassified errors are internal.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return KindInternal
}

// Is reports whether err is classified with kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

func newf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

func Unauthenticated(format string, args ...any) *Error {
	return newf(KindUnauthenticated, format, args...)
}
func Forbidden(format string, args ...any) *Error { return newf(KindForbidden, format, args...) }
func NotFound(format string, args ...any) *Error  { return newf(KindNotFound, format, args...) }
func Conflict(format string, args ...any) *Error  { return newf(KindConflict, format, args...) }
func FailedPrecondition(format string, args ...any) *Error {
	return newf(KindFailedPrecondition, format, args...)
}
func RateLimited(format string, args ...any) *Error { return newf(KindRateLimited, format, args...) }

// Unavailable says a dependency is down or saturated; cause is logged only.
func Unavailable(cause error) *Error {
	return &Error{Kind: KindUnavailable, Message: "the service is temporarily unavailable, try again shortly", Err: cause}
}

// Invalid blames one input field; field is a dotted GraphQL input path such
// as "input.email" (empty for the whole input).
func Invalid(field, format string, args ...any) *Error {
	e := newf(KindInvalid, format, args...)
	if field != "" {
		e.Field = splitPath(field)
	}
	return e
}

// errHidden marks Hidden's answer; it is never shown, only matched.
var errHidden = errors.New("hidden from this viewer")

// Hidden is the one answer a read gives a viewer who may not see what it
// asked for: data private to another owner, or to the platform's staff. The
// read returns the zero value with it. An anonymous viewer is told to log
// in, anyone else is refused with message, which says who may read, never
// what is there. A resolver of a private field turns it into null (or the
// empty list the schema requires) with one helper; a root field, a
// mutation or an HTTP route presents its kind like any refusal. Hidden
// takes anything that knows whether it is anonymous (identity.Viewer) so
// that this package imports none of the others.
func Hidden(v interface{ Anonymous() bool }, format string, args ...any) *Error {
	if v.Anonymous() {
		return &Error{Kind: KindUnauthenticated, Message: "log in first", Err: errHidden}
	}
	return &Error{Kind: KindForbidden, Message: fmt.Sprintf(format, args...), Err: errHidden}
}

// IsHidden reports whether err is Hidden's answer.
func IsHidden(err error) bool { return errors.Is(err, errHidden) }

// Internal wraps an unexpected failure; its message never reaches clients.
func Internal(err error) *Error {
	return &Error{Kind: KindInternal, Message: "internal error", Err: err}
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// List carries several input errors at once so a form can show them all.
type List []*Error

func (l List) Error() string {
	msg := ""
	for i, e := range l {
		if i > 0 {
			msg += "; "
		}
		msg += e.Error()
	}
	return msg
}

// Err returns nil for an empty list, so validation can end with
// `return errs.Err()`.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Flatten returns the classified errors in err: every element of a List, or
// the one classified error, or nil if err is unclassified.
func Flatten(err error) []*Error {
	var l List
	if errors.As(err, &l) {
		return l
	}
	if e, ok := As(err); ok {
		return []*Error{e}
	}
	return nil
}

// Unwrap lets errors.As find the first classified error of the list, so a
// list of input errors is itself classified as invalid input.
func (l List) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Wrap classifies err, whose message is safe to show, and blames field
// (a dotted input path, empty for none).
func Wrap(k Kind, field string, err error) *Error {
	e := &Error{Kind: k, Message: err.Error(), Err: err}
	if field != "" {
		e.Field = splitPath(field)
	}
	return e
}
