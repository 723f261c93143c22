package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"configmarket/internal/blob"
	"configmarket/internal/catalog"
	"configmarket/internal/packages"
	"configmarket/internal/store"
)

// LoadPackages gives every demo version that reached moderation a small
// real package in blobs (idempotent: versions that have one are skipped), so
// the CRM endpoints, moderators' downloads and buyers' backups work on the
// demo marketplace.
func LoadPackages(ctx context.Context, st *store.Store, blobs blob.Store) error {
	vs, err := st.VersionsWithoutPackage(ctx, []store.VersionState{store.VersionInReview, store.VersionApproved})
	if err != nil {
		return err
	}
	for _, v := range vs {
		number := fmt.Sprintf("%d.%d.%d", v.Key.Major, v.Key.Minor, v.Key.Patch)
		manifest := catalog.PackageManifest{Slug: v.Slug, Version: number, PlatformVersion: "2026.4"}
		body := packages.Archive(manifest, map[string][]byte{
			"tables/deals.json":   []byte(`{"table": "deals", "columns": ["title", "amount", "stage", "owner"]}`),
			"workflows/main.json": []byte(fmt.Sprintf(`{"workflow": %q, "steps": ["new", "qualified", "won"]}`, v.Slug)),
			"CHANGELOG.md":        []byte(v.Changelog),
		})
		key := fmt.Sprintf("packages/%s/demo", v.VersionID)
		size, err := putReplacing(ctx, blobs, key, body)
		if err != nil {
			return fmt.Errorf("demo package of %s %s: %w", v.Slug, number, err)
		}
		sum := sha256.Sum256(body)
		m, _ := json.Marshal(manifest)
		if _, err := st.SaveVersionPackage(ctx, store.VersionPackage{
			VersionID: v.VersionID, BlobKey: key, SHA256: sum[:], Size: size, Manifest: m, UploadedAt: time.Now(),
		}); err != nil {
			return fmt.Errorf("demo package of %s %s: %w", v.Slug, number, err)
		}
	}
	return nil
}

// putReplacing stores body under key, over what an interrupted earlier
// load left there.
func putReplacing(ctx context.Context, blobs blob.Store, key string, body []byte) (int64, error) {
	if err := blobs.Delete(ctx, key); err != nil {
		return 0, err
	}
	return blobs.Put(ctx, key, bytes.NewReader(body))
}
