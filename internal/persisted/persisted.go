// Package persisted serves GraphQL documents by hash. Automatic persisted
// queries (APQ) let a client send a document's SHA-256 instead of the
// document once the server has seen it; the documents live in the shared
// cache (Redis, or in process), so any instance answers a hash another one
// learnt. Trusted documents hold the clients named in a restricted set (the
// mobile apps in production) to the documents of a manifest built into the
// binary: what shipped in the apps is all they may run.
package persisted

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"configmarket/internal/cache"
)

// Manifest maps the SHA-256 of each trusted document to its text.
type Manifest struct {
	bodies map[string]string
}

// ParseManifest reads Apollo's persisted query manifest format, refusing an
// entry whose id is not the hash of its body.
func ParseManifest(b []byte) (*Manifest, error) {
	var file struct {
		Format     string `json:"format"`
		Version    int    `json:"version"`
		Operations []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Body string `json:"body"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		return nil, fmt.Errorf("persisted manifest: %w", err)
	}
	if file.Format != "apollo-persisted-query-manifest" || file.Version != 1 {
		return nil, fmt.Errorf("persisted manifest: unknown format %q version %d", file.Format, file.Version)
	}
	m := &Manifest{bodies: make(map[string]string, len(file.Operations))}
	for _, op := range file.Operations {
		if Hash(op.Body) != op.ID {
			return nil, fmt.Errorf("persisted manifest: %s: id is not the SHA-256 of its body", op.Name)
		}
		m.bodies[op.ID] = op.Body
	}
	return m, nil
}

// Lookup returns the trusted document with this hash.
func (m *Manifest) Lookup(hash string) (string, bool) {
	body, ok := m.bodies[hash]
	return body, ok
}

// Len is the number of trusted documents.
func (m *Manifest) Len() int { return len(m.bodies) }

// Hash is the hex SHA-256 that APQ clients send for a document.
func Hash(document string) string {
	sum := sha256.Sum256([]byte(document))
	return hex.EncodeToString(sum[:])
}

// MaxDocumentBytes bounds a document kept for APQ. Registration happens
// before parsing, so without a bound anyone could park a megabyte string
// per hash in the shared cache; every real client document is far smaller.
const MaxDocumentBytes = 32 << 10

// Documents is the APQ store (gqlgen's graphql.Cache[string]): trusted
// documents first, then documents clients registered, in the cache.
type Documents struct {
	manifest *Manifest
	cache    cache.Cache
	ttl      time.Duration
}

// DefaultTTL keeps a registered document a day after its last registration.
const DefaultTTL = 24 * time.Hour

// NewDocuments keeps registered documents in c for ttl (DefaultTTL when
// not positive) after their last registration.
func NewDocuments(m *Manifest, c cache.Cache, ttl time.Duration) *Documents {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Documents{manifest: m, cache: c, ttl: ttl}
}

func key(hash string) string { return "v1:apq:" + hash }

// validHash keeps cache keys to what a SHA-256 looks like.
func validHash(h string) bool {
	if len(h) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// Get returns the document with this hash; a cache failure is a miss (the
// client then sends the document again).
func (d *Documents) Get(ctx context.Context, hash string) (string, bool) {
	if body, ok := d.manifest.Lookup(hash); ok {
		return body, true
	}
	if !validHash(hash) {
		return "", false
	}
	b, ok, err := d.cache.Get(ctx, key(hash))
	if err != nil {
		if !errors.Is(err, cache.ErrUnavailable) {
			slog.WarnContext(ctx, "persisted query lookup failed", "err", err)
		}
		return "", false
	}
	return string(b), ok
}

// Add registers a document gqlgen has checked against its hash.
func (d *Documents) Add(ctx context.Context, hash, document string) {
	if _, ok := d.manifest.Lookup(hash); ok || len(document) > MaxDocumentBytes || !validHash(hash) {
		return
	}
	if err := d.cache.Set(ctx, key(hash), []byte(document), d.ttl); err != nil && !errors.Is(err, cache.ErrUnavailable) {
		slog.WarnContext(ctx, "persisted query store failed", "err", err)
	}
}
