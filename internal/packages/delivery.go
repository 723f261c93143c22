package packages

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/blob"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// Licenser finds the installation a CRM's license key names, with the
// license check's rules and rate limits (commerce.Service).
type Licenser interface {
	LicensedInstallation(ctx context.Context, key, accountID string) (store.Installation, bool, error)
}

// Download is an open package to send; the caller closes Reader.
type Download struct {
	Reader     blob.Reader
	SHA256     []byte
	VersionID  uuid.UUID
	UploadedAt time.Time
}

// notFound is the one answer for every package a caller may not have: an
// invalid, expired, unpaid or foreign key looks like an unknown one.
func notFound() error { return apperr.NotFound("no such package") }

// open reads a version's package.
func (s *Service) open(ctx context.Context, versionID uuid.UUID) (Download, error) {
	ps, err := s.store.VersionPackages(ctx, []uuid.UUID{versionID})
	if err != nil {
		return Download{}, err
	}
	if len(ps) == 0 {
		return Download{}, notFound()
	}
	return s.openPackage(ctx, ps[0])
}

// openPackage reads a package's bytes.
func (s *Service) openPackage(ctx context.Context, p store.VersionPackage) (Download, error) {
	r, err := s.blobs.Open(ctx, p.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return Download{}, notFound()
	}
	if err != nil {
		return Download{}, err
	}
	return Download{Reader: r, SHA256: p.SHA256, VersionID: p.VersionID, UploadedAt: p.UploadedAt}, nil
}

// Current is the package the installation of a license key should run
// (SPEC §2, §4): for a trial or rental the configuration's current approved
// version, so an automatic update is a new package to fetch; for a
// purchase the version it bought. Each fetch is counted per installation.
func (s *Service) Current(ctx context.Context, lic Licenser, key, accountID string) (Download, error) {
	// SECURITY: the license key and the CRM account id it was issued to
	// are the CRM's credentials; whatever is wrong with them, the answer
	// is the same not-found.
	inst, ok, err := lic.LicensedInstallation(ctx, key, accountID)
	if err != nil || !ok {
		if err == nil {
			err = notFound()
		}
		return Download{}, err
	}
	versionID := inst.VersionID
	if inst.Mode != store.ModePurchase {
		vs, err := s.store.NewestVersions(ctx, []uuid.UUID{inst.ConfigurationID}, []store.VersionState{store.VersionApproved}, 1)
		if err != nil {
			return Download{}, err
		}
		if len(vs) == 1 {
			versionID = vs[0].ID
		}
	}
	d, err := s.open(ctx, versionID)
	if err != nil {
		return Download{}, err
	}
	if err := s.store.CountPackageDownload(ctx, inst.ID, versionID, s.clock.Now()); err != nil {
		d.Reader.Close()
		return Download{}, err
	}
	return d, nil
}

// MayRead decides who sees a version's package and downloads it outside
// a license: what it is and what it holds.
func MayRead(v identity.Viewer, p store.VersionPackage) bool {
	// SECURITY: the package is the developer's work before it is anyone's
	// purchase: its developer and the moderators (admins) read it; customers
	// get the bytes by license key, buyers by backup link, nobody else.
	return v.IsAdmin() || v.IsDeveloper(p.DeveloperID)
}

// ForModeration reads a version's package for the moderators who decide
// it and the developer who uploaded it (MayRead).
func (s *Service) ForModeration(ctx context.Context, v identity.Viewer, versionID uuid.UUID) (Download, error) {
	if v.Anonymous() {
		return Download{}, apperr.Hidden(v, "")
	}
	ps, err := s.store.VersionPackages(ctx, []uuid.UUID{versionID})
	if err != nil {
		return Download{}, err
	}
	if len(ps) == 0 || !MayRead(v, ps[0]) {
		return Download{}, notFound()
	}
	return s.openPackage(ctx, ps[0])
}

// paidPurchase: a purchase whose payment went through.
func paidPurchase(i store.Installation) bool {
	return i.Mode == store.ModePurchase && (i.State == store.InstallationActive || i.State == store.InstallationPastDue)
}

// MayGetBackup decides who gets a backup link of an installation of
// customer.
func MayGetBackup(v identity.Viewer, customer uuid.UUID) bool {
	// SECURITY: the backup is the buyer's: only the customer the
	// installation belongs to gets a link (admins read packages by
	// version, MayRead; a link is the buyer's authority to download).
	return v.IsCustomer(customer)
}

// BackupLink is a signed, short-lived path to a paid purchase's package, or
// nil when there is none to give (SPEC §4: the buyer's full backup); anyone
// but the buyer gets apperr.Hidden.
func (s *Service) BackupLink(ctx context.Context, v identity.Viewer, inst store.Installation) (*string, error) {
	if !MayGetBackup(v, inst.CustomerID) {
		return nil, apperr.Hidden(v, "only the buyer gets a backup link")
	}
	// Only once it has paid.
	if !paidPurchase(inst) {
		return nil, nil
	}
	ps, err := s.store.VersionPackages(ctx, []uuid.UUID{inst.VersionID})
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	link := "/packages/backups/" + s.links.sign(inst.ID, s.clock.Now().Add(s.rules.BackupLinkTTL))
	return &link, nil
}

// Backup opens the package a backup link names, while the link is valid
// and the purchase still paid.
func (s *Service) Backup(ctx context.Context, token string) (Download, error) {
	// SECURITY: the link's signature is the buyer's authority (issued by
	// BackupLink to the buyer only); an expired or altered one is not found.
	id, ok := s.links.verify(token, s.clock.Now())
	if !ok {
		return Download{}, notFound()
	}
	is, err := s.store.InstallationsByIDs(ctx, []uuid.UUID{id})
	if err != nil {
		return Download{}, err
	}
	if len(is) == 0 || !paidPurchase(is[0]) {
		return Download{}, notFound()
	}
	return s.open(ctx, is[0].VersionID)
}

// linkSigner signs backup links: installation id and expiry, with an
// HMAC-SHA256 under the server's key.
type linkSigner struct{ key []byte }

func (l *linkSigner) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte("configmarket backup link\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

func (l *linkSigner) sign(installationID uuid.UUID, expires time.Time) string {
	payload := make([]byte, 0, 24+32)
	payload = append(payload, installationID[:]...)
	payload = binary.BigEndian.AppendUint64(payload, uint64(expires.Unix()))
	return base64.RawURLEncoding.EncodeToString(append(payload, l.mac(payload)...))
}

func (l *linkSigner) verify(token string, now time.Time) (uuid.UUID, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 24+32 {
		return uuid.Nil, false
	}
	payload, sum := raw[:24], raw[24:]
	if !hmac.Equal(sum, l.mac(payload)) {
		return uuid.Nil, false
	}
	if now.Unix() >= int64(binary.BigEndian.Uint64(payload[16:24])) {
		return uuid.Nil, false
	}
	id, _ := uuid.FromBytes(payload[:16])
	return id, !bytes.Equal(id[:], uuid.Nil[:])
}

// OfVersions returns the packages among versionIDs that v may read
// (MayRead), in one statement: a page of versions reads them together.
func (s *Service) OfVersions(ctx context.Context, v identity.Viewer, versionIDs []uuid.UUID) ([]store.VersionPackage, error) {
	if v.Anonymous() {
		return nil, nil
	}
	ps, err := s.store.VersionPackages(ctx, versionIDs)
	if err != nil {
		return nil, err
	}
	out := ps[:0]
	for _, p := range ps {
		if MayRead(v, p) {
			out = append(out, p)
		}
	}
	return out, nil
}
