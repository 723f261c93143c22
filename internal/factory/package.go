package factory

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"time"
)

// Package is a well-formed package for a configuration's version: a
// gzip-compressed tar archive with manifest.json and an exported table,
// whose bytes differ per slug and version (and per extra).
func Package(slug, version string, extra ...string) []byte {
	manifest, _ := json.Marshal(map[string]string{"slug": slug, "version": version, "platformVersion": "2026.4"})
	files := []struct {
		name string
		body []byte
	}{
		{"manifest.json", manifest},
		{"tables/deals.json", []byte(`{"table": "deals", "columns": ["title", "amount", "stage"], "note": "` + slug + ` ` + version + `"}`)},
	}
	for i, e := range extra {
		files = append(files, struct {
			name string
			body []byte
		}{"extra/" + string(rune('a'+i)) + ".txt", []byte(e)})
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		_ = tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(1764547200, 0)})
		_, _ = tw.Write(f.body)
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}
