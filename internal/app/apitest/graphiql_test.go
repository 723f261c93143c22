package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"configmarket/internal/app"
	"configmarket/internal/obs"
)

// TestGraphiQLServedOffline: the explorer's page and bundle come from the
// binary with a Content-Security-Policy that names no other origin, and
// only when enabled.
func TestGraphiQLServedOffline(t *testing.T) {
	s := newObservedServer(t, obs.New(obs.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	for path, kind := range map[string]string{"/graphiql": "text/html", "/graphiql/graphiql.js": "text/javascript", "/graphiql/graphiql.css": "text/css"} {
		res, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		csp := res.Header.Get("Content-Security-Policy")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), kind) || len(body) == 0 {
			t.Errorf("%s: %d %s (%d bytes)", path, res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "http") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}

	d := s.Deps
	d.GraphiQL = false
	off := app.New(d)
	for _, path := range []string{"/graphiql", "/graphiql/graphiql.js", "/"} {
		req, _ := http.NewRequest(http.MethodGet, path, nil)
		rec := &responseRecorder{header: http.Header{}}
		off.Handler().ServeHTTP(rec, req)
		if rec.status != http.StatusNotFound {
			t.Errorf("GraphiQL off: GET %s answered %d", path, rec.status)
		}
	}
}

type responseRecorder struct {
	header http.Header
	status int
}

func (r *responseRecorder) Header() http.Header         { return r.header }
func (r *responseRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *responseRecorder) WriteHeader(status int)      { r.status = status }

// TestGraphiQLInChromium opens the explorer in headless Chromium against a
// real listening server, types a query, runs it and checks what the
// result pane shows; the screenshot is written to $CM_TEST_OUTPUT (default
// testdata/out/).
func TestGraphiQLInChromium(t *testing.T) {
	if _, err := os.Stat(filepath.Join(Root(), "graphiql/node_modules/playwright-core")); err != nil {
		t.Fatal("graphiql/node_modules is missing: run the tests with `make test` (scripts/node.sh runs npm ci there)")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatal("chromium is missing: run the tests with `make test` (scripts/chromium.sh installs Debian's chromium)")
	}
	outDir := os.Getenv("CM_TEST_OUTPUT")
	if outDir == "" {
		outDir = filepath.Join(Root(), "testdata", "out")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot, err := filepath.Abs(filepath.Join(outDir, "graphiql.png"))
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(shot)

	s := newObservedServer(t, obs.New(obs.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	cmd := exec.Command("node", "graphiql/check.mjs", s.URL, shot, "{ tariffPlans { code name } }", "Up to 100 users")
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node graphiql/check.mjs: %v\n%s", err, stdout.String())
	}
	var report struct {
		Result          string   `json:"result"`
		CSPViolations   []string `json:"cspViolations"`
		ForeignRequests []string `json:"foreignRequests"`
		PageErrors      []string `json:"pageErrors"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	t.Logf("screenshot: %s", shot)
	for _, want := range []string{`"tariffPlans"`, `"code": "A"`, `"name": "Up to 100 users"`} {
		if !strings.Contains(report.Result, want) {
			t.Errorf("result pane lacks %s:\n%s", want, report.Result)
		}
	}
	if len(report.CSPViolations)+len(report.ForeignRequests)+len(report.PageErrors) > 0 {
		t.Errorf("CSP violations %v, requests to other origins %v, page errors %v",
			report.CSPViolations, report.ForeignRequests, report.PageErrors)
	}
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Fatalf("screenshot %s: %d bytes, %v", shot, len(png), err)
	}
}
