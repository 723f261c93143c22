package apitest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

const catmQueueQuery = `{ moderationQueue(first: 10) { nodes { id number state configuration { slug } } } }`

func TestCatalogModerationQueueAndApproval(t *testing.T) {
	w := newCatmWorld(t)
	a := w.ready(t, "developer", "queue-a", "Queue A")
	b := w.ready(t, "other developer", "queue-b", "Queue B")
	va, vb := w.version(t, "developer", a, "1.0.0"), w.version(t, "other developer", b, "1.0.0")
	w.submit(t, "developer", va)
	w.submit(t, "other developer", vb)

	queue := func(t *testing.T) []string {
		t.Helper()
		res := w.Do(t, w.tok["admin"], catmQueueQuery, nil)
		if res.Code() != "" {
			t.Fatal(res.Raw)
		}
		var out []string
		for _, n := range get(res.Data, "moderationQueue", "nodes").([]any) {
			if str(n, "state") != "IN_REVIEW" {
				t.Fatalf("queue holds a version %s", str(n, "state"))
			}
			out = append(out, str(n, "configuration", "slug"))
		}
		return out
	}
	t.Run("queue oldest first, admins only", func(t *testing.T) {
		if got := queue(t); !slices.Equal(got, []string{"queue-a", "queue-b"}) {
			t.Fatalf("queue %v", got)
		}
		for _, d := range catmNotAdmin {
			res := w.Do(t, w.tok[d.actor], catmQueueQuery, nil)
			if res.Code() != d.top || get(res.Data, "moderationQueue") != nil || strings.Contains(res.Raw, va) {
				t.Errorf("%s: want %s and no queue, got %s", d.actor, d.top, res.Raw)
			}
		}
	})

	// The storefront is asked (and so caches its answers) before approval.
	anonBySlug := func(t *testing.T) Response {
		return w.read(t, "anonymous", "queue-a", "slug state publishedAt currentVersion { number }")
	}
	if w.listed(t, "queue-a") || get(anonBySlug(t).Data, "configuration") != nil {
		t.Fatal("a configuration in review is on the storefront")
	}

	t.Run("approve twins", func(t *testing.T) {
		w.expectDenied(t, catmNotAdmin, catmApproveVersion, "approveVersion", "version", map[string]any{"id": va})
	})

	res, p, ues := w.mutate(t, "admin", catmApproveVersion, "approveVersion", map[string]any{"id": va})
	catmOK(t, res, ues)
	if str(p, "version", "state") != "APPROVED" || str(p, "version", "decidedAt") == "" || str(p, "version", "configuration", "state") != "PUBLISHED" {
		t.Fatalf("approve: %s", res.Raw)
	}
	t.Run("first approval publishes on the very next read", func(t *testing.T) {
		if !w.listed(t, "queue-a") {
			t.Error("not in the anonymous listing after approval")
		}
		r := anonBySlug(t)
		if str(r.Data, "configuration", "state") != "PUBLISHED" || str(r.Data, "configuration", "currentVersion", "number") != "1.0.0" ||
			str(r.Data, "configuration", "publishedAt") == "" {
			t.Errorf("configuration(slug:) after approval: %s", r.Raw)
		}
		if w.listed(t, "queue-b") {
			t.Error("the other configuration in review is listed")
		}
		if got := queue(t); !slices.Equal(got, []string{"queue-b"}) {
			t.Errorf("queue after approval %v", got)
		}
	})

	t.Run("only versions in review are decided", func(t *testing.T) {
		draft := w.version(t, "developer", a, "1.1.0")
		for name, id := range map[string]string{"approved": va, "draft": draft} {
			for _, m := range []struct {
				mutation, name string
				input          map[string]any
			}{
				{catmApproveVersion, "approveVersion", map[string]any{"id": id}},
				{catmRejectVersion, "rejectVersion", map[string]any{"id": id, "reason": "Because"}},
			} {
				before := w.fingerprint(t)
				res, p, ues := w.mutate(t, "admin", m.mutation, m.name, m.input)
				catmRefused(t, res, p, "version", ues, "VERSION_NOT_IN_REVIEW", "")
				if w.fingerprint(t) != before {
					t.Fatalf("%s of a %s version wrote", m.name, name)
				}
			}
		}
		res, p, ues := w.mutate(t, "admin", catmApproveVersion, "approveVersion", map[string]any{"id": globalIDOf("Version", uuid.New())})
		catmRefused(t, res, p, "version", ues, "NOT_FOUND", "input.id")
	})

	t.Run("a later approval moves the current version, not publishedAt", func(t *testing.T) {
		published := str(anonBySlug(t).Data, "configuration", "publishedAt")
		v2 := w.version(t, "developer", a, "1.2.0")
		w.submit(t, "developer", v2)
		w.approve(t, v2)
		r := anonBySlug(t)
		if str(r.Data, "configuration", "currentVersion", "number") != "1.2.0" || str(r.Data, "configuration", "publishedAt") != published {
			t.Fatalf("after the second approval: %s (published %s)", r.Raw, published)
		}
	})
}

func TestCatalogModerationRejection(t *testing.T) {
	w := newCatmWorld(t)
	id, v1 := w.publish(t, "developer", "rejectable", "Rejectable")
	v2 := w.version(t, "developer", id, "1.1.0")
	w.submit(t, "developer", v2)
	const reason = "Screenshots show another vendor's product"

	for _, blank := range []string{"", "   "} {
		t.Run(fmt.Sprintf("reason %q refused", blank), func(t *testing.T) {
			before := w.fingerprint(t)
			res, p, ues := w.mutate(t, "admin", catmRejectVersion, "rejectVersion", map[string]any{"id": v2, "reason": blank})
			catmRefused(t, res, p, "version", ues, "REASON_REQUIRED", "input.reason")
			if w.fingerprint(t) != before {
				t.Fatal("refused rejection wrote")
			}
		})
	}
	t.Run("twins", func(t *testing.T) {
		w.expectDenied(t, catmNotAdmin, catmRejectVersion, "rejectVersion", "version", map[string]any{"id": v2, "reason": reason})
	})

	res, p, ues := w.mutate(t, "admin", catmRejectVersion, "rejectVersion", map[string]any{"id": v2, "reason": "  " + reason + "  "})
	catmOK(t, res, ues)
	if str(p, "version", "state") != "REJECTED" || str(p, "version", "rejectionReason") != reason {
		t.Fatalf("reject: %s", res.Raw)
	}

	const fields = `state currentVersion { number } versions(first: 10) { nodes { number state rejectionReason } }
		moderationHistory { action reason version { number } at }`
	for _, actor := range []string{"developer", "admin"} {
		t.Run(actor+" sees the reason and the history", func(t *testing.T) {
			c := get(w.read(t, actor, "rejectable", fields).Data, "configuration")
			var versions []string
			for _, n := range get(c, "versions", "nodes").([]any) {
				versions = append(versions, str(n, "number")+"/"+str(n, "state")+"/"+str(n, "rejectionReason"))
			}
			if want := []string{"1.1.0/REJECTED/" + reason, "1.0.0/APPROVED/"}; !slices.Equal(versions, want) {
				t.Errorf("versions %v, want %v", versions, want)
			}
			var history []string
			for _, e := range get(c, "moderationHistory").([]any) {
				history = append(history, str(e, "action")+"/"+str(e, "version", "number")+"/"+str(e, "reason"))
			}
			want := []string{"SUBMITTED/1.0.0/", "APPROVED/1.0.0/", "SUBMITTED/1.1.0/", "REJECTED/1.1.0/" + reason}
			if !slices.Equal(history, want) {
				t.Errorf("history %v, want %v", history, want)
			}
			if str(c, "state") != "PUBLISHED" || str(c, "currentVersion", "number") != "1.0.0" {
				t.Errorf("a rejection changed the published side: %v", c)
			}
		})
	}
	for _, actor := range []string{"anonymous", "other developer", "customer", "partner"} {
		t.Run(actor+" sees neither", func(t *testing.T) {
			r := w.read(t, actor, "rejectable", fields)
			c := get(r.Data, "configuration")
			if nodes := get(c, "versions", "nodes").([]any); len(nodes) != 1 || str(nodes[0], "number") != "1.0.0" {
				t.Errorf("versions: %s", r.Raw)
			}
			if get(c, "moderationHistory") != nil || strings.Contains(r.Raw, "vendor") || strings.Contains(r.Raw, "REJECTED") {
				t.Errorf("private history leaked: %s", r.Raw)
			}
			for id, visible := range map[string]bool{v1: true, v2: false} {
				n := w.Do(t, w.tok[actor], `query($id: ID!) { node(id: $id) { id ... on Version { state rejectionReason } } }`, map[string]any{"id": id})
				if (get(n.Data, "node") != nil) != visible || strings.Contains(n.Raw, "vendor") {
					t.Errorf("node(%s): %s", id, n.Raw)
				}
			}
		})
	}

	t.Run("a rejected number still counts", func(t *testing.T) {
		res, p, ues := w.mutate(t, "developer", catmCreateVersion, "createVersion", map[string]any{"configurationId": id, "number": "1.0.9"})
		catmRefused(t, res, p, "version", ues, "VERSION_NOT_GREATER", "input.number")
		w.version(t, "developer", id, "1.1.1")
	})
}

func TestCatalogModerationSuspendAndRestore(t *testing.T) {
	w := newCatmWorld(t)
	id, _ := w.publish(t, "developer", "suspendable", "Suspendable")
	if !w.listed(t, "suspendable") { // cached before the change
		t.Fatal("not listed")
	}
	const reason = "Copied from another developer"

	t.Run("reason required", func(t *testing.T) {
		res, p, ues := w.mutate(t, "admin", catmSuspendConfiguration, "suspendConfiguration", map[string]any{"id": id, "reason": " "})
		catmRefused(t, res, p, "configuration", ues, "REASON_REQUIRED", "input.reason")
	})
	t.Run("suspend twins", func(t *testing.T) {
		w.expectDenied(t, catmNotAdmin, catmSuspendConfiguration, "suspendConfiguration", "configuration", map[string]any{"id": id, "reason": reason})
	})
	t.Run("restore of a published one", func(t *testing.T) {
		res, p, ues := w.mutate(t, "admin", catmRestoreConfiguration, "restoreConfiguration", map[string]any{"id": id})
		catmRefused(t, res, p, "configuration", ues, "CONFIGURATION_STATE", "")
	})

	res, p, ues := w.mutate(t, "admin", catmSuspendConfiguration, "suspendConfiguration", map[string]any{"id": id, "reason": reason})
	catmOK(t, res, ues)
	if str(p, "configuration", "state") != "SUSPENDED" || str(p, "configuration", "suspendedReason") != reason {
		t.Fatalf("suspend: %s", res.Raw)
	}
	t.Run("suspended is off the storefront", func(t *testing.T) {
		if w.listed(t, "suspendable") {
			t.Error("still listed")
		}
		for actor, visible := range map[string]bool{"anonymous": false, "other developer": false, "customer": false, "developer": true, "admin": true} {
			r := w.read(t, actor, "suspendable", "state suspendedReason")
			if (get(r.Data, "configuration") != nil) != visible {
				t.Errorf("%s: %s", actor, r.Raw)
			}
			if visible && (str(r.Data, "configuration", "state") != "SUSPENDED" || str(r.Data, "configuration", "suspendedReason") != reason) {
				t.Errorf("%s: %s", actor, r.Raw)
			}
		}
		res, p, ues := w.mutate(t, "admin", catmSuspendConfiguration, "suspendConfiguration", map[string]any{"id": id, "reason": reason})
		catmRefused(t, res, p, "configuration", ues, "CONFIGURATION_STATE", "")
	})

	t.Run("restore twins", func(t *testing.T) {
		w.expectDenied(t, catmNotAdmin, catmRestoreConfiguration, "restoreConfiguration", "configuration", map[string]any{"id": id})
	})
	res, p, ues = w.mutate(t, "admin", catmRestoreConfiguration, "restoreConfiguration", map[string]any{"id": id})
	catmOK(t, res, ues)
	if str(p, "configuration", "state") != "PUBLISHED" || get(p, "configuration", "suspendedReason") != nil {
		t.Fatalf("restore: %s", res.Raw)
	}
	if !w.listed(t, "suspendable") || get(w.read(t, "anonymous", "suspendable", "state").Data, "configuration") == nil {
		t.Fatal("restored configuration is not back on the storefront")
	}
	hist := w.read(t, "developer", "suspendable", "moderationHistory { action reason }")
	var actions []string
	for _, e := range get(hist.Data, "configuration", "moderationHistory").([]any) {
		actions = append(actions, str(e, "action")+"/"+str(e, "reason"))
	}
	if want := []string{"SUBMITTED/", "APPROVED/", "SUSPENDED/" + reason, "RESTORED/"}; !slices.Equal(actions, want) {
		t.Fatalf("history %v, want %v", actions, want)
	}
}
