// Package packages holds the configurations themselves (SPEC §2, §4): the
// archive a developer exports from the CRM, uploaded for a draft version,
// checked on submit, delivered to each installation's CRM by license key,
// and handed to buyers as their backup.
//
// A package is a gzip-compressed tar archive holding manifest.json:
//
//	{"slug": "<configuration slug>", "version": "1.2.0", "platformVersion": "<CRM version exported from>"}
//
// beside whatever else the CRM exports.
package packages

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/blob"
	"configmarket/internal/catalog"
	"configmarket/internal/clock"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// Rules are the package settings.
type Rules struct {
	// MaxSize is the largest package accepted (PACKAGE_MAX_BYTES).
	MaxSize int64
	// BackupLinkTTL is how long a buyer's backup link works.
	BackupLinkTTL time.Duration
}

// DefaultRules: 100 MiB packages (the limit the submit checks hold too),
// backup links valid 15 minutes.
var DefaultRules = Rules{MaxSize: catalog.DefaultPackageMaxSize, BackupLinkTTL: 15 * time.Minute}

// maxManifest bounds manifest.json.
const maxManifest = 64 << 10

// ErrTooLarge: the upload passed Rules.MaxSize; nothing was stored.
var ErrTooLarge = errors.New("packages: package too large")

// Service stores, checks and serves packages.
type Service struct {
	store *store.Store
	blobs blob.Store
	clock clock.Clock
	rules Rules
	links *linkSigner
}

// New builds the service; linkKey signs backup links (any length; the
// same on every instance).
func New(st *store.Store, blobs blob.Store, clk clock.Clock, rules Rules, linkKey []byte) *Service {
	return &Service{store: st, blobs: blobs, clock: clk, rules: rules, links: &linkSigner{key: linkKey}}
}

// Rules are the service's settings.
func (s *Service) Rules() Rules { return s.rules }

// AuditUpload is the audit action of an upload: it comes over HTTP, not
// as a GraphQL mutation, so no field name gives it one.
const AuditUpload = "uploadPackage"

// Upload streams a package for a draft version into storage, hashing and
// inspecting it on the way, and records it on the version, replacing the
// draft's earlier one. Past MaxSize it stops and stores nothing
// (ErrTooLarge); a broken archive is stored and recorded with its problem,
// which the submit checks report.
func (s *Service) Upload(ctx context.Context, v identity.Viewer, versionID uuid.UUID, body io.Reader) (store.VersionPackage, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeVersion, versionID))
	// SECURITY: only the developer of the version's configuration uploads
	// its package (catalog.OwnVersion); anyone else finds no such version.
	ver, err := catalog.OwnVersion(ctx, s.store.Queries, v, versionID)
	if err != nil {
		return store.VersionPackage{}, err
	}
	if ver.State != store.VersionDraft {
		return store.VersionPackage{}, apperr.FailedPrecondition("the package of a submitted version cannot change").WithCode("PACKAGE_FROZEN")
	}
	key := fmt.Sprintf("packages/%s/%s", versionID, uuid.NewString())
	hash := sha256.New()
	limited := &limitReader{r: body, left: s.rules.MaxSize}
	inspect := newInspector()
	size, err := s.blobs.Put(ctx, key, io.TeeReader(limited, io.MultiWriter(hash, inspect)))
	manifest, problem := inspect.finish()
	if err != nil {
		if limited.over {
			return store.VersionPackage{}, ErrTooLarge
		}
		return store.VersionPackage{}, fmt.Errorf("store package: %w", err)
	}
	if size == 0 {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), key)
		return store.VersionPackage{}, apperr.Invalid("body", "the package is empty").WithCode("PACKAGE_MALFORMED")
	}
	p := store.VersionPackage{
		VersionID: versionID, BlobKey: key, SHA256: hash.Sum(nil), Size: size, Manifest: manifest, Problem: problem,
		UploadedBy: &v.UserID, UploadedAt: s.clock.Now(),
	}
	var replaced *string
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.LockVersion(ctx, versionID)
		if err != nil {
			return err
		}
		if cur.State != store.VersionDraft {
			return apperr.FailedPrecondition("the package of a submitted version cannot change").WithCode("PACKAGE_FROZEN")
		}
		// SPEC §2: copied content from another developer is refused
		// (and checked again on submit).
		copied, err := q.PackageOfOtherDeveloper(ctx, p.SHA256, v.ActingFor)
		if err != nil {
			return err
		}
		if copied {
			return apperr.FailedPrecondition("another developer's version has exactly this package").WithCode("COPIED_PACKAGE")
		}
		replaced, err = q.SaveVersionPackage(ctx, p)
		return err
	}, store.Audit(audit.From(ctx)))
	cleanup := context.WithoutCancel(ctx)
	if err != nil {
		_ = s.blobs.Delete(cleanup, key)
		return store.VersionPackage{}, err
	}
	if replaced != nil {
		if err := s.blobs.Delete(cleanup, *replaced); err != nil {
			slog.WarnContext(ctx, "replaced package not deleted", "key", *replaced, "err", err)
		}
	}
	return p, nil
}

// limitReader fails once more than left bytes were read.
type limitReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.over = true
		return 0, ErrTooLarge
	}
	return n, err
}

// inspector reads the archive as it streams past (gzip, then tar) in a
// goroutine of its own, keeping manifest.json and the first problem.
type inspector struct {
	w        *io.PipeWriter
	done     chan struct{}
	manifest json.RawMessage
	problem  string
}

func newInspector() *inspector {
	r, w := io.Pipe()
	in := &inspector{w: w, done: make(chan struct{})}
	go func() {
		defer close(in.done)
		in.manifest, in.problem = readArchive(r)
		// Whatever the archive is, the upload goes on: drain the rest.
		_, _ = io.Copy(io.Discard, r)
	}()
	return in
}

func (in *inspector) Write(p []byte) (int, error) { return in.w.Write(p) }

// finish ends the stream and returns what was found; problem is nil for a
// well-formed package.
func (in *inspector) finish() (json.RawMessage, *string) {
	_ = in.w.Close()
	<-in.done
	if in.problem == "" && in.manifest == nil {
		in.problem = "the archive has no manifest.json"
	}
	if in.problem == "" {
		return in.manifest, nil
	}
	return in.manifest, &in.problem
}

func readArchive(r io.Reader) (json.RawMessage, string) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, "not a gzip-compressed tar archive"
	}
	tr := tar.NewReader(gz)
	var manifest json.RawMessage
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return manifest, "the archive is truncated or corrupt"
		}
		if path.Clean(strings.TrimPrefix(h.Name, "./")) != "manifest.json" {
			if _, err := io.Copy(io.Discard, tr); err != nil {
				return manifest, "the archive is truncated or corrupt"
			}
			continue
		}
		if manifest != nil {
			return manifest, "the archive has two manifest.json"
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxManifest+1))
		if err != nil {
			return nil, "the archive is truncated or corrupt"
		}
		var m catalog.PackageManifest
		if len(b) > maxManifest || json.Unmarshal(b, &m) != nil {
			return nil, "manifest.json is not a JSON object of at most 64 KiB"
		}
		manifest = b
	}
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return manifest, "the archive is truncated or corrupt"
	}
	return manifest, ""
}
