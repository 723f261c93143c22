package operations

import (
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/internal/persisted"
)

func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	b, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, gqlErr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(b)})
	if gqlErr != nil {
		t.Fatal(gqlErr)
	}
	return schema
}

// TestDocumentsValidateAgainstTheSchema: every client document parses and
// validates against schema.graphqls, holds one operation named like its
// file, and no two files share an operation name (a name identifies one
// document in logs, metrics and the manifest).
func TestDocumentsValidateAgainstTheSchema(t *testing.T) {
	schema := loadSchema(t)
	owners := map[string]string{}
	files, err := fs.Glob(Documents, "*/*.graphql")
	if err != nil || len(files) < 20 {
		t.Fatalf("%d documents, err %v", len(files), err)
	}
	for _, file := range files {
		b, _ := Documents.ReadFile(file)
		doc, errs := gqlparser.LoadQuery(schema, string(b))
		if errs != nil {
			t.Errorf("%s: %v", file, errs)
			continue
		}
		want := strings.TrimSuffix(path.Base(file), ".graphql")
		if len(doc.Operations) != 1 || doc.Operations[0].Name != want {
			t.Errorf("%s: want exactly one operation named %s", file, want)
			continue
		}
		if prev, ok := owners[want]; ok {
			t.Errorf("operation %s is in %s and %s", want, prev, file)
		}
		owners[want] = file
	}
	for _, folder := range []string{"shared", "storefront", "mobile", "dashboard", "admin", "partner"} {
		if m, _ := fs.Glob(Documents, folder+"/*.graphql"); len(m) == 0 {
			t.Errorf("no documents for %s", folder)
		}
	}
}

// TestMobileManifestHoldsTheMobileDocuments: the manifest names exactly the
// operations of shared/ and mobile/, every id is its body's
// SHA-256 and every body validates as the same kind of operation. (Whether
// each body is byte for byte what Apollo Client sends is checked by
// clients/manifest.mjs --check, run by TestClientScenarios.)
func TestMobileManifestHoldsTheMobileDocuments(t *testing.T) {
	schema := loadSchema(t)
	if _, err := persisted.ParseManifest(MobileManifest); err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Operations []struct{ ID, Name, Type, Body string }
	}
	if err := json.Unmarshal(MobileManifest, &manifest); err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, folder := range []string{"shared", "mobile"} {
		files, _ := fs.Glob(Documents, folder+"/*.graphql")
		for _, f := range files {
			want = append(want, strings.TrimSuffix(path.Base(f), ".graphql"))
		}
	}
	for _, op := range manifest.Operations {
		got = append(got, op.Name)
		doc, errs := gqlparser.LoadQuery(schema, op.Body)
		if errs != nil || len(doc.Operations) != 1 || doc.Operations[0].Name != op.Name || string(doc.Operations[0].Operation) != op.Type {
			t.Errorf("manifest entry %s: %v", op.Name, errs)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		t.Fatalf("manifest operations %v, want %v: run `node clients/manifest.mjs`", got, want)
	}
}

// Card data is never accepted (SPEC §9): no input field or argument of the
// schema can carry a card number, CVC or expiry.
func TestSchemaAcceptsNoCardData(t *testing.T) {
	schema := loadSchema(t)
	card := regexp.MustCompile(`(?i)(card|pan$|cvv|cvc|expir|iban|track)`)
	inputs := 0
	for _, def := range schema.Types {
		for _, f := range def.Fields {
			names := []string{}
			if def.Kind == ast.InputObject {
				names = append(names, f.Name)
				inputs++
			}
			for _, a := range f.Arguments {
				names = append(names, a.Name)
			}
			for _, n := range names {
				if card.MatchString(n) {
					t.Errorf("%s.%s: %s looks like card data", def.Name, f.Name, n)
				}
			}
		}
	}
	if inputs < 50 {
		t.Fatalf("only %d input fields seen: the schema did not load whole", inputs)
	}
}
