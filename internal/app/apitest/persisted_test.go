package apitest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"configmarket/internal/factory"
	"configmarket/internal/persisted"
)

// persistedRequest posts a GraphQL request with an optional document, APQ
// hash and client name.
func (s *Server) persistedRequest(t *testing.T, url, client, query, hash string) Response {
	t.Helper()
	return s.persistedRequestAs(t, url, client, "", query, hash)
}

func (s *Server) persistedRequestAs(t *testing.T, url, client, token, query, hash string) Response {
	t.Helper()
	body := map[string]any{}
	if query != "" {
		body["query"] = query
	}
	if hash != "" {
		body["extensions"] = map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	}
	b, _ := json.Marshal(body)
	headers := map[string]string{}
	if client != "" {
		headers[persisted.ClientNameHeader] = client
	}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	raw := s.rawAt(t, url, string(b), headers)
	out := Response{Status: raw.status, Raw: raw.body}
	if err := json.Unmarshal([]byte(raw.body), &out); err != nil {
		t.Fatalf("response is not JSON (%d): %s", raw.status, raw.body)
	}
	return out
}

func (s *Server) rawAt(t *testing.T, url, body string, headers map[string]string) rawResponse {
	t.Helper()
	saved := s.URL
	s.URL = url
	defer func() { s.URL = saved }()
	return s.raw(t, "POST", "/graphql", "application/json", body, headers)
}

// TestAutomaticPersistedQueries: an unknown hash is PersistedQueryNotFound,
// the document sent with its hash registers it, and from then on the hash
// alone runs it — on another instance too, since the documents live in the
// shared cache. A document that does not match its hash is refused and not
// registered.
func TestAutomaticPersistedQueries(t *testing.T) {
	s := New(t)
	query := `query Plans { tariffPlans { code monthlyPrice { amount currencyCode } } }`
	hash := persisted.Hash(query)

	miss := s.persistedRequest(t, s.URL, "", "", hash)
	if miss.Code() != "PERSISTED_QUERY_NOT_FOUND" || miss.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %s", miss.Raw)
	}
	register := s.persistedRequest(t, s.URL, "", query, hash)
	if register.Code() != "" || len(get(register.Data, "tariffPlans").([]any)) != 4 {
		t.Fatalf("registration: %s", register.Raw)
	}
	hit := s.persistedRequest(t, s.URL, "", "", hash)
	if hit.Code() != "" || str(hit.Data, "tariffPlans", 0, "monthlyPrice", "currencyCode") != "RUB" {
		t.Fatalf("hash only after registration: %s", hit.Raw)
	}
	// A second instance on the same cache knows the hash.
	otherSrv, _ := Start(t, s.Deps)
	if r := s.persistedRequest(t, otherSrv.URL, "", "", hash); r.Code() != "" || r.Raw != hit.Raw {
		t.Fatalf("hash on another instance: %s", r.Raw)
	}

	forged := `query Plans { tariffPlans { code } }`
	wrongHash := persisted.Hash(`{ __typename }`)
	mismatch := s.persistedRequest(t, s.URL, "", forged, wrongHash)
	if mismatch.Code() != "BAD_USER_INPUT" || !strings.Contains(mismatch.Errors[0].Message, "does not match") {
		t.Fatalf("document under another document's hash: %s", mismatch.Raw)
	}
	if r := s.persistedRequest(t, s.URL, "", "", wrongHash); r.Code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("a refused document was registered: %s", r.Raw)
	}
	if r := s.persistedRequest(t, s.URL, "", "", "not-a-hash"); r.Code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("malformed hash: %s", r.Raw)
	}
}

// TestOversizedDocumentsAreRunButNotKept: a document over the APQ bound runs
// but is not parked in the cache.
func TestOversizedDocumentsAreRunButNotKept(t *testing.T) {
	s := New(t)
	query := "{ tariffPlans { code } }\n#" + strings.Repeat("x", persisted.MaxDocumentBytes)
	hash := persisted.Hash(query)
	if r := s.persistedRequest(t, s.URL, "", query, hash); r.Code() != "" {
		t.Fatalf("oversized document: %s", r.Raw)
	}
	if _, ok, _ := s.Cache.Get(context.Background(), "v1:apq:"+hash); ok {
		t.Fatal("an oversized document was stored")
	}
}

// TestTrustedDocumentsForMobile: with the mobile client restricted, its
// manifest documents run by hash with no registration (and in full), while
// any other document — new, or a known hash with another body — is refused
// with PERSISTED_QUERY_NOT_IN_LIST and never runs. Other clients are
// unaffected.
func TestTrustedDocumentsForMobile(t *testing.T) {
	s := New(t)
	d := s.Deps
	d.TrustedClients = []string{"mobile"}
	restricted, _ := Start(t, d)

	var manifest struct {
		Operations []struct{ ID, Name, Body string }
	}
	if err := json.Unmarshal(mustRead(t, "operations/mobile.manifest.json"), &manifest); err != nil {
		t.Fatal(err)
	}
	var viewer struct{ ID, Body string }
	for _, op := range manifest.Operations {
		if op.Name == "Viewer" {
			viewer.ID, viewer.Body = op.ID, op.Body
		}
	}
	if viewer.ID == "" {
		t.Fatal("the mobile manifest has no Viewer operation")
	}
	customer := factory.Customer(t, s.Store)
	token, _ := s.LogIn(t, customer, nil)

	byHash := s.persistedRequestAs(t, restricted.URL, "mobile", token, "", viewer.ID)
	if byHash.Code() != "" || str(byHash.Data, "viewer", "user", "email") != customer.Email || str(byHash.Data, "viewer", "__typename") != "Viewer" {
		t.Fatalf("trusted document by hash: %s", byHash.Raw)
	}
	if r := s.persistedRequestAs(t, restricted.URL, "mobile", token, viewer.Body, ""); r.Code() != "" || r.Raw != byHash.Raw {
		t.Fatalf("trusted document in full: %s", r.Raw)
	}

	unknown := `query Sneaky { tariffPlans { code } }`
	for name, req := range map[string][2]string{
		"unknown document":           {unknown, ""},
		"unknown document with hash": {unknown, persisted.Hash(unknown)},
		"unknown hash":               {"", persisted.Hash(unknown)},
		"known hash, other body":     {unknown, viewer.ID},
	} {
		r := s.persistedRequest(t, restricted.URL, "mobile", req[0], req[1])
		if r.Code() != persisted.CodeNotInList || r.Data != nil {
			t.Errorf("%s: %s", name, r.Raw)
		}
	}
	if r := s.persistedRequest(t, restricted.URL, "", "", persisted.Hash(unknown)); r.Code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("the refused mobile document was registered: %s", r.Raw)
	}

	for _, client := range []string{"", "storefront"} {
		if r := s.persistedRequest(t, restricted.URL, client, unknown, ""); r.Code() != "" || len(get(r.Data, "tariffPlans").([]any)) != 4 {
			t.Errorf("client %q is held to the mobile manifest: %s", client, r.Raw)
		}
	}
	// Without the option the mobile client may send anything.
	if r := s.persistedRequest(t, s.URL, "mobile", unknown, ""); r.Code() != "" {
		t.Fatalf("mobile without TRUSTED_DOCUMENT_CLIENTS: %s", r.Raw)
	}
}

// mustRead reads a file by its path from the module's root.
func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(), path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
