package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/store"
)

// DefaultPackageMaxSize is the largest package by default: 100 MiB.
const DefaultPackageMaxSize int64 = 100 << 20

// SetPackageMaxSize sets the largest package a version may be submitted
// with (the upload refuses larger ones too).
func (s *Service) SetPackageMaxSize(n int64) { s.packageMaxSize = n }

// PackageManifest is what a package says of itself: its manifest.json.
type PackageManifest struct {
	// Slug is the configuration's slug.
	Slug string `json:"slug"`
	// Version is the version number, MAJOR.MINOR.PATCH.
	Version string `json:"version"`
	// PlatformVersion is the CRM platform version it was exported from.
	PlatformVersion string `json:"platformVersion"`
}

// packageChecks are the automatic checks of a version's package on submit
// (SPEC §2): present, a well-formed archive whose manifest names this
// configuration and version, within the size limit, and not the same
// bytes as another developer's package ("copied content").
func (s *Service) packageChecks(ctx context.Context, q *store.Queries, c store.Configuration, ver store.Version) (apperr.List, error) {
	fail := func(code, format string, args ...any) apperr.List {
		return apperr.List{apperr.FailedPrecondition(format, args...).WithCode(code).WithField("version", "package")}
	}
	ps, err := q.VersionPackages(ctx, []uuid.UUID{ver.ID})
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return fail("PACKAGE_MISSING", "upload the version's package before submitting"), nil
	}
	p := ps[0]
	var errs apperr.List
	if p.Problem != nil {
		errs = append(errs, fail("PACKAGE_MALFORMED", "the package is not a well-formed archive: %s", *p.Problem)...)
	} else {
		var m PackageManifest
		number := formatSemver(store.VersionKey{Major: ver.Major, Minor: ver.Minor, Patch: ver.Patch})
		if err := json.Unmarshal(p.Manifest, &m); err != nil {
			return nil, fmt.Errorf("stored manifest of %s: %w", ver.ID, err)
		}
		switch {
		case m.Slug != c.Slug || m.Version != number:
			errs = append(errs, fail("PACKAGE_MANIFEST_MISMATCH", "the package's manifest is for %q %q, not %q %q", m.Slug, m.Version, c.Slug, number)...)
		case m.PlatformVersion == "":
			errs = append(errs, fail("PACKAGE_MANIFEST_MISMATCH", "the package's manifest does not name the CRM platform version")...)
		}
	}
	if p.Size > s.packageMaxSize {
		errs = append(errs, fail("PACKAGE_TOO_LARGE", "the package is %d bytes, more than %d", p.Size, s.packageMaxSize)...)
	}
	copied, err := q.PackageOfOtherDeveloper(ctx, p.SHA256, c.DeveloperID)
	if err != nil {
		return nil, err
	}
	if copied {
		errs = append(errs, fail("COPIED_PACKAGE", "another developer's version has exactly this package")...)
	}
	return errs, nil
}
