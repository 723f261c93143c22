package persisted

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"configmarket/internal/cache"
)

func manifestOf(t *testing.T, bodies map[string]string) []byte {
	t.Helper()
	type op struct{ ID, Name, Type, Body string }
	var ops []op
	for name, body := range bodies {
		ops = append(ops, op{ID: Hash(body), Name: name, Type: "query", Body: body})
	}
	b, err := json.Marshal(map[string]any{"format": "apollo-persisted-query-manifest", "version": 1, "operations": ops})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseManifestRefusesAnIDThatIsNotTheBodysHash(t *testing.T) {
	good := manifestOf(t, map[string]string{"Plans": "query Plans { tariffPlans { code } }"})
	if m, err := ParseManifest(good); err != nil || m.Len() != 1 {
		t.Fatalf("good manifest: %v", err)
	}
	tampered := strings.Replace(string(good), "tariffPlans { code }", "tariffPlans { name }", 1)
	if _, err := ParseManifest([]byte(tampered)); err == nil {
		t.Fatal("a body edited after hashing was accepted")
	}
	if _, err := ParseManifest([]byte(`{"format":"something-else","version":1,"operations":[]}`)); err == nil {
		t.Fatal("an unknown format was accepted")
	}
}

// TestDocumentsInProcess: without Redis the APQ store lives in the
// in-process cache; manifest documents need no registration, registered
// ones age out with their TTL, and malformed or oversized ones are not kept.
func TestDocumentsInProcess(t *testing.T) {
	ctx := context.Background()
	trusted := "query Plans { tariffPlans { code } }"
	m, err := ParseManifest(manifestOf(t, map[string]string{"Plans": trusted}))
	if err != nil {
		t.Fatal(err)
	}
	c := cache.NewMemory(100)
	d := NewDocuments(m, c, 50*time.Millisecond)

	if body, ok := d.Get(ctx, Hash(trusted)); !ok || body != trusted {
		t.Fatal("a manifest document is unknown")
	}
	d.Add(ctx, Hash(trusted), trusted)
	if _, ok, _ := c.Get(ctx, key(Hash(trusted))); ok {
		t.Fatal("a manifest document was copied into the cache")
	}

	doc := "{ categories { slug } }"
	if _, ok := d.Get(ctx, Hash(doc)); ok {
		t.Fatal("an unregistered document is known")
	}
	d.Add(ctx, Hash(doc), doc)
	if body, ok := d.Get(ctx, Hash(doc)); !ok || body != doc {
		t.Fatal("a registered document is unknown")
	}
	time.Sleep(60 * time.Millisecond)
	if _, ok := d.Get(ctx, Hash(doc)); ok {
		t.Fatal("a registered document outlived its TTL")
	}

	d.Add(ctx, "../../etc", doc)
	if _, ok, _ := c.Get(ctx, key("../../etc")); ok {
		t.Fatal("a malformed hash became a cache key")
	}
	big := doc + "#" + strings.Repeat("x", MaxDocumentBytes)
	d.Add(ctx, Hash(big), big)
	if _, ok := d.Get(ctx, Hash(big)); ok {
		t.Fatal("an oversized document was kept")
	}
}
