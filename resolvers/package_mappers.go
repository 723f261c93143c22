package resolvers

import (
	"encoding/hex"
	"encoding/json"

	"configmarket/graph/model"
	"configmarket/internal/catalog"
	"configmarket/internal/packages"
	"configmarket/internal/relay"
)

func toVersionPackage(p *packages.VersionPackage) *model.VersionPackage {
	if p == nil {
		return nil
	}
	out := &model.VersionPackage{
		Sha256: hex.EncodeToString(p.SHA256), Size: int(p.Size), UploadedAt: p.UploadedAt, Problem: p.Problem,
		DownloadPath: "/packages/versions/" + relay.UUIDID(relay.TypeVersion, p.VersionID),
	}
	var m catalog.PackageManifest
	if p.Manifest != nil && json.Unmarshal(p.Manifest, &m) == nil {
		out.Manifest = &model.PackageManifest{Slug: m.Slug, Version: m.Version, PlatformVersion: m.PlatformVersion}
	}
	return out
}
