package store_test

import (
	"testing"

	"configmarket/internal/blob"
	"configmarket/internal/blob/blobtest"
	"configmarket/internal/dbtest"
	"configmarket/internal/store"
)

// The PostgreSQL package storage passes the suite every backend passes
// (the S3-compatible one runs it in internal/blob).
func TestBlobsInPostgres(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return store.New(dbtest.Pool(t)).Blobs()
	})
}
