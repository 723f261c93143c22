package packages

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"sort"
	"time"

	"configmarket/internal/catalog"
)

// Archive builds a package as the CRM exports one: a gzip-compressed tar
// archive with manifest.json first, then files in name order. Demo data
// and tests build theirs with it.
func Archive(m catalog.PackageManifest, files map[string][]byte) []byte {
	manifest, _ := json.Marshal(m)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	at := time.Unix(1764547200, 0)
	write := func(name string, body []byte) {
		// Writing to memory cannot fail.
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: at})
		_, _ = tw.Write(body)
	}
	write("manifest.json", manifest)
	for _, name := range names {
		write(name, files[name])
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}
