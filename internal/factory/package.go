package factory

import (
	"fmt"

	"configmarket/internal/catalog"
	"configmarket/internal/packages"
)

// Package is a well-formed package for a configuration's version, whose
// bytes differ per slug and version (and per extra).
func Package(slug, version string, extra ...string) []byte {
	files := map[string][]byte{
		"tables/deals.json": []byte(fmt.Sprintf(`{"table": "deals", "columns": ["title", "amount", "stage"], "of": %q}`, slug+" "+version)),
	}
	for i, e := range extra {
		files[fmt.Sprintf("extra/%d.txt", i)] = []byte(e)
	}
	return packages.Archive(catalog.PackageManifest{Slug: slug, Version: version, PlatformVersion: "2026.4"}, files)
}
