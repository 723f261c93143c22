package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"configmarket/internal/benchdata"
	"configmarket/internal/password"
	"configmarket/migrations"
)

// withDatabase returns base with its database name replaced.
func withDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// ensureDatabase makes database name hold the benchmark marketplace of the
// given sizes and returns its URL. A database whose comment says it holds
// exactly these sizes, this schema and this anchor day is reused: loading
// the full marketplace takes minutes.
func ensureDatabase(ctx context.Context, adminURL, name string, sizes benchdata.Sizes, anchor time.Time) (string, error) {
	schema, err := migrations.Hash()
	if err != nil {
		return "", err
	}
	want := fmt.Sprintf("benchdata %s schema=%s anchor=%s", sizes, schema[:16], anchor.Format(time.DateOnly))
	dbURL, err := withDatabase(adminURL, name)
	if err != nil {
		return "", err
	}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", adminURL, err)
	}
	defer admin.Close(ctx)
	var comment *string
	err = admin.QueryRow(ctx, `select shobj_description(oid, 'pg_database') from pg_database where datname = $1`, name).Scan(&comment)
	switch {
	case err == nil && comment != nil && *comment == want:
		slog.Info("bench database up to date", "database", name)
		return dbURL, nil
	case err == nil:
		if _, err := admin.Exec(ctx, "drop database "+pgx.Identifier{name}.Sanitize()+" with (force)"); err != nil {
			return "", err
		}
	case err != pgx.ErrNoRows:
		return "", err
	}
	if _, err := admin.Exec(ctx, "create database "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if err := migrations.Migrate(ctx, conn); err != nil {
		return "", err
	}
	hasher, err := password.NewHasher(password.Default)
	if err != nil {
		return "", err
	}
	hash, err := hasher.Hash(benchdata.Password)
	if err != nil {
		return "", err
	}
	start := time.Now()
	slog.Info("loading bench database", "database", name, "sizes", sizes.String())
	if _, err := benchdata.Load(ctx, conn, sizes, hash, anchor); err != nil {
		return "", err
	}
	slog.Info("bench database loaded", "database", name, "took", time.Since(start).Round(time.Second))
	if _, err := admin.Exec(ctx, fmt.Sprintf("comment on database %s is '%s'", pgx.Identifier{name}.Sanitize(), want)); err != nil {
		return "", err
	}
	return dbURL, nil
}
