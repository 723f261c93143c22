package catalog

import (
	"regexp"
	"strconv"

	"configmarket/internal/store"
)

// Version numbers are MAJOR.MINOR.PATCH without pre-release or build parts:
// every submitted version is a release the storefront may install.
var semverPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$`)

func parseSemver(s string) (store.VersionKey, bool) {
	m := semverPattern.FindStringSubmatch(s)
	if m == nil {
		return store.VersionKey{}, false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	patch, _ := strconv.Atoi(m[3])
	return store.VersionKey{Major: major, Minor: minor, Patch: patch}, true
}

func formatSemver(k store.VersionKey) string {
	// Not fmt.Sprintf: a storefront page formats 250 numbers.
	var buf [32]byte
	return string(appendSemver(buf[:0], k))
}

func appendSemver(b []byte, k store.VersionKey) []byte {
	b = strconv.AppendInt(b, int64(k.Major), 10)
	b = strconv.AppendInt(append(b, '.'), int64(k.Minor), 10)
	return strconv.AppendInt(append(b, '.'), int64(k.Patch), 10)
}

// AppendVersionNumber appends a version's number to b.
func AppendVersionNumber(b []byte, v store.Version) []byte {
	return appendSemver(b, store.VersionKey{Major: v.Major, Minor: v.Minor, Patch: v.Patch})
}

// VersionNumber formats a version's number.
func VersionNumber(v store.Version) string {
	return formatSemver(store.VersionKey{Major: v.Major, Minor: v.Minor, Patch: v.Patch})
}

func semverLess(a, b store.VersionKey) bool {
	if a.Major != b.Major {
		return a.Major < b.Major
	}
	if a.Minor != b.Minor {
		return a.Minor < b.Minor
	}
	return a.Patch < b.Patch
}
