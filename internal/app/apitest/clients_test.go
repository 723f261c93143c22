package apitest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"configmarket/internal/demo"
)

// requireClients fails when the npm clients are not installed: `make test`
// runs npm ci in clients/ (scripts/node.sh).
func requireClients(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(Root(), "clients/node_modules/@apollo/client")); err != nil {
		t.Fatal("clients/node_modules is missing: run the tests with `make test` (it runs npm ci there)")
	}
}

// node runs a script under clients/ and returns its stdout; a non-zero exit
// fails the test with the script's stderr (its failed assertion).
func node(t *testing.T, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join("clients", script)}, args...)...)
	cmd.Dir = Root()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s%s", script, err, out, stderr.String())
	}
	t.Logf("%s: %s", script, strings.TrimSpace(string(out)))
	return string(out)
}

// TestClientScenarios drives the real client libraries through the four
// clients' journeys against the real server on a real listener, with the
// demo marketplace loaded and the mobile apps held to their trusted
// documents as in production. The scenarios share one world and run in
// order: the admin approves the version the developer submitted.
func TestClientScenarios(t *testing.T) {
	requireClients(t)
	s := New(t)
	if err := demo.Load(context.Background(), s.Pool); err != nil {
		t.Fatal(err)
	}
	d := s.Deps
	d.TrustedClients = []string{"mobile"}
	srv, _ := Start(t, d)
	url := srv.URL + "/graphql"

	t.Run("manifest is what Apollo sends", func(t *testing.T) { node(t, "manifest.mjs", "--check") })
	t.Run("storefront browse and search", func(t *testing.T) { node(t, "storefront.mjs", url) })
	t.Run("mobile trial to rental", func(t *testing.T) { node(t, "mobile-trial.mjs", url) })
	t.Run("developer publishes, admin approves", func(t *testing.T) {
		var v struct{ VersionID, Slug, Number string }
		if err := json.Unmarshal([]byte(node(t, "developer-publish.mjs", url)), &v); err != nil || v.VersionID == "" {
			t.Fatalf("developer scenario output: %v", err)
		}
		node(t, "admin-approve.mjs", url, v.VersionID, v.Slug, v.Number)
	})
	t.Run("partner watches its commission arrive", func(t *testing.T) {
		var got struct{ Commission, DayTotal string }
		if err := json.Unmarshal([]byte(node(t, "partner-live.mjs", url)), &got); err != nil || got.Commission != "45.00" {
			t.Fatalf("partner scenario output: %+v %v", got, err)
		}
	})
}

// TestSchemaContract: schema.graphqls keeps every promise of the last
// released schema (operations/schema.released.graphqls), and the check
// really fails on a removed field, a removed type and a changed argument
// type, while an added field passes.
func TestSchemaContract(t *testing.T) {
	requireClients(t)
	node(t, "schema-diff.mjs", "operations/schema.released.graphqls", "schema.graphqls")

	released := string(mustRead(t, "operations/schema.released.graphqls"))
	for _, c := range []struct {
		name, from, to, want string
	}{
		{"removed field", "\n  summary: String!\n", "\n", "FIELD_REMOVED"},
		{"removed type", "Rating", "Score", "TYPE_REMOVED"},
		{"changed argument type", "configuration(slug: String!)", "configuration(slug: ID!)", "ARG_CHANGED_KIND"},
		{"added field", "type Rating {\n", "type Rating {\n  median: Float\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(released, c.from) {
				t.Fatalf("the released schema has no %q to change", c.from)
			}
			changed := filepath.Join(t.TempDir(), "changed.graphqls")
			if err := os.WriteFile(changed, []byte(strings.Replace(released, c.from, c.to, -1)), 0o600); err != nil {
				t.Fatal(err)
			}
			diff := exec.Command("node", "clients/schema-diff.mjs", "operations/schema.released.graphqls", changed)
			diff.Dir = Root()
			out, err := diff.CombinedOutput()
			if c.want == "" {
				if err != nil {
					t.Fatalf("a compatible change fails the check: %v\n%s", err, out)
				}
				return
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "BREAKING: "+c.want) {
				t.Fatalf("want exit 1 with %s, got %v:\n%s", c.want, err, out)
			}
		})
	}
}
