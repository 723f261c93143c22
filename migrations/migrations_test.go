package migrations_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"configmarket/internal/dbtest"
	"configmarket/migrations"
)

// Several instances start at once on an already migrated database: the
// advisory lock serialises them and each file stays applied exactly once.
func TestMigrateIsIdempotentAndConcurrencySafe(t *testing.T) {
	url := dbtest.URL(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close(ctx)
			errs <- migrations.Migrate(ctx, conn)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version int
	if err := conn.QueryRow(ctx, `select version from public.schema_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.sql")
	if version != len(files) {
		t.Fatalf("schema version %d, want %d (one per file)", version, len(files))
	}
}

func TestHashChangesWithContent(t *testing.T) {
	h1, err := migrations.Hash()
	if err != nil || len(h1) != 64 {
		t.Fatalf("hash %q err %v", h1, err)
	}
	h2, _ := migrations.Hash()
	if h1 != h2 {
		t.Fatal("hash is not deterministic")
	}
}
