package app

import (
	"strconv"
	"testing"
)

func TestProductionRequiresJWTKeys(t *testing.T) {
	_, err := jwtKeys(Config{Env: "production"})
	if err == nil {
		t.Fatal("production started without JWT_KEYS")
	}
	if _, err := jwtKeys(Config{Env: "development"}); err != nil {
		t.Fatalf("development key: %v", err)
	}
	spec := "k1=" + strconv.Quote("x")
	if _, err := jwtKeys(Config{Env: "production", JWTKeys: spec}); err == nil {
		t.Fatal("malformed JWT_KEYS accepted")
	}
}
