package fieldcost_test

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"configmarket/graph"
	"configmarket/internal/fieldcost"
)

// TestEveryFieldIsClassified holds the table to the executable schema:
// every field of every type it lists is in it, it lists no field the
// schema lacks, and every object a field the fast path writes leads to is
// listed too (the fast path walks those and nothing else).
func TestEveryFieldIsClassified(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	table := fieldcost.Table()
	// The types the resolvers' prefetch reads costs of.
	for _, typ := range []string{"Configuration", "Developer", "Version"} {
		if table[typ] == nil {
			t.Errorf("%s: not in the table", typ)
		}
	}
	for typ, fields := range table {
		def := schema.Types[typ]
		if def == nil || def.Kind != ast.Object {
			t.Errorf("%s: not an object type of the schema", typ)
			continue
		}
		for _, f := range def.Fields {
			if _, ok := fields[f.Name]; !ok {
				t.Errorf("%s.%s: not classified in internal/fieldcost", typ, f.Name)
			}
		}
		for name, f := range fields {
			fd := def.Fields.ForName(name)
			if fd == nil {
				t.Errorf("%s.%s: not a field of the schema", typ, name)
				continue
			}
			if !f.Fast {
				continue
			}
			switch child := schema.Types[fd.Type.Name()]; child.Kind {
			case ast.Scalar, ast.Enum:
			case ast.Object:
				if table[child.Name] == nil {
					t.Errorf("%s.%s: the fast path writes it, but its type %s is not in the table", typ, name, child.Name)
				}
			default:
				t.Errorf("%s.%s: the fast path writes only objects, scalars and enums, not a %s", typ, name, child.Kind)
			}
		}
	}
}

// TestUnknownFieldsCostTheWholeRow: a field the table does not know is
// read with every column of its row, never with fewer.
func TestUnknownFieldsCostTheWholeRow(t *testing.T) {
	if got := fieldcost.Of("Configuration", "__typename"); got != fieldcost.Row {
		t.Errorf("__typename costs %b", got)
	}
	got := fieldcost.Of("Version", "noSuchField")
	if got&fieldcost.Detail == 0 || got&fieldcost.Summary == 0 {
		t.Errorf("an unknown field costs %b", got)
	}
	if got := fieldcost.Of("Configuration", "developer"); got != fieldcost.Developer {
		t.Errorf("Configuration.developer costs %b", got)
	}
}
