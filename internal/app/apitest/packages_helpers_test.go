package apitest

import (
	"testing"

	"configmarket/internal/factory"
)

// putPackage uploads body as the package of a version, with token.
func (s *Server) putPackage(t *testing.T, token, versionID string, body []byte) rawResponse {
	t.Helper()
	headers := map[string]string{}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	return s.raw(t, "PUT", "/packages/versions/"+versionID, "application/gzip", string(body), headers)
}

// uploadPackage uploads a well-formed package for a version of the
// token's developer, made for the version's configuration and number.
func (s *Server) uploadPackage(t *testing.T, token, versionID string) []byte {
	t.Helper()
	res := s.Do(t, token, `query($v: ID!) { node(id: $v) { ... on Version { number configuration { slug } } } }`, map[string]any{"v": versionID})
	number, slug := str(res.Data, "node", "number"), str(res.Data, "node", "configuration", "slug")
	if number == "" || slug == "" {
		t.Fatalf("version %s: %s", versionID, res.Raw)
	}
	body := factory.Package(slug, number)
	if r := s.putPackage(t, token, versionID, body); r.status != 200 {
		t.Fatalf("upload package: %d %s", r.status, r.body)
	}
	return body
}
