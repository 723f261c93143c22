package resolvers

import "configmarket/internal/apperr"

// hidden is the one way a private field answers a viewer the domain
// refused: a domain read (or catalog.Private, commerce.CustomerSecret)
// answers a stranger apperr.Hidden, and hidden turns that into the zero
// value without an error. Wrap the mapped value for a nullable field, so a
// stranger reads null; wrap the domain's answer before mapping where the
// schema's `!` requires a value, so a stranger reads an empty connection
// or list. Any other error stays an error.
func hidden[T any](value T, err error) (T, error) {
	if apperr.IsHidden(err) {
		var zero T
		return zero, nil
	}
	return value, err
}
