package apitest

import (
	"context"
	"slices"
	"testing"

	"configmarket/internal/probe"
)

func probeServer(t *testing.T, production bool) []probe.Finding {
	t.Helper()
	d := New(t).Deps
	d.Production = production
	srv, _ := Start(t, d)
	findings, err := (&probe.Prober{Endpoint: srv.URL + "/graphql", BodyLimit: int(d.MaxBodyBytes)}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return findings
}

// The graphql-cop style probe (also `go run ./cmd/probe -url ...` against
// a deployed server) finds nothing in production mode.
func TestProbeFindsNothingInProduction(t *testing.T) {
	if findings := probeServer(t, true); len(findings) > 0 {
		t.Fatalf("findings: %v", findings)
	}
}

// The same probe against development mode, where introspection and
// suggestions are on by design, finds exactly those: it can fail.
func TestProbeCatchesWhatDevelopmentModeOpens(t *testing.T) {
	var got []string
	for _, f := range probeServer(t, false) {
		got = append(got, f.Check)
	}
	if !slices.Equal(got, []string{"introspection", "field suggestions"}) {
		t.Fatalf("findings %v, want introspection and field suggestions", got)
	}
}
