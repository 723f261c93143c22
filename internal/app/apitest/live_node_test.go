package apitest

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"configmarket/internal/factory"
)

// TestGraphQLWSClientAcrossInstances: the real npm graphql-ws client
// subscribes a dealer on instance B; a payment recorded through instance A
// reaches it with the exact commission; a second partner subscribed at the
// same time sees nothing but its snapshot.
func TestGraphQLWSClientAcrossInstances(t *testing.T) {
	if _, err := os.Stat(filepath.Join(Root(), "e2e/node_modules/graphql-ws")); err != nil {
		t.Fatal("e2e/node_modules is missing: run the tests with `make test` (it runs npm ci there)")
	}
	w := newCommerceWorld(t)
	_, dealerToken := w.premiumDeveloperAndDealer(t)
	otherToken, _ := w.s.LogIn(t, factory.Partner(t, w.s.Store), nil)
	b := w.s.secondInstance(t)
	url := "ws" + strings.TrimPrefix(b.URL, "http") + "/graphql"

	type run struct {
		lines chan string
		done  chan error
	}
	start := func(token string, count int) run {
		cmd := exec.Command("node", "e2e/subscribe.mjs", url, token, string(rune('0'+count)))
		cmd.Dir = Root()
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("node: %v", err)
		}
		r := run{lines: make(chan string, 8), done: make(chan error, 1)}
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				r.lines <- sc.Text()
			}
			r.done <- cmd.Wait()
		}()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return r
	}
	dealerRun := start(dealerToken, 2)
	otherRun := start(otherToken, 2)
	for _, r := range []run{dealerRun, otherRun} {
		select {
		case l := <-r.lines:
			if !strings.Contains(l, `"dayTotal"`) || strings.Contains(l, "error") {
				t.Fatalf("snapshot: %s", l)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("no snapshot from the graphql-ws client")
		}
	}

	w.payRent(t) // through instance A
	select {
	case l := <-dealerRun.lines:
		var ev struct {
			Data struct {
				CommissionAdded struct {
					Entry struct {
						Amount struct{ Amount string }
						Rate   string
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Data.CommissionAdded.Entry.Amount.Amount != "31.25" || ev.Data.CommissionAdded.Entry.Rate != "25%" {
			t.Fatalf("dealer's event: %s", l)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the dealer's graphql-ws client received no commission")
	}
	select {
	case l := <-otherRun.lines:
		t.Fatalf("the other partner received: %s", l)
	case <-time.After(500 * time.Millisecond):
	}
}
