package resolvers

import "github.com/google/uuid"

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func uuidOf(s string, err error) (uuid.UUID, error) {
	if err != nil {
		return uuid.Nil, err
	}
	return uuid.Parse(s)
}
