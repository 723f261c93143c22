package apitest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGraphQLOverHTTPAudit runs the graphql-http package's conformance
// audit against the real handler: every MUST and every SHOULD passes. The
// MAY notices left are deliberate: GET is refused (CSRF), and invalid
// parameters under application/json answer 200 as the SHOULD asks.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	if _, err := os.Stat(filepath.Join(Root(), "e2e/node_modules/graphql-http")); err != nil {
		t.Fatal("e2e/node_modules is missing: run the tests with `make test` (it runs npm ci there)")
	}
	s := New(t)
	cmd := exec.Command("node", "e2e/audit.mjs", s.URL+"/graphql")
	cmd.Dir = Root()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	var results []struct{ ID, Name, Status, Reason string }
	if err := json.Unmarshal(out, &results); err != nil || len(results) < 50 {
		t.Fatalf("audit output (%d results): %v\n%s", len(results), err, out)
	}
	for _, r := range results {
		if r.Status == "error" || r.Status == "warn" {
			t.Errorf("%s: %s — %s", r.Status, r.Name, r.Reason)
		}
	}
}
