package privacy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// viewerFuncs finds, in every non-test file under internal/, the exported
// functions and methods of exported types that take an identity.Viewer or
// read the viewer from their context (identity.FromContext), named
// "package.Func" or "package.Type.Method".
func viewerFuncs(t *testing.T) []string {
	t.Helper()
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		pkg := f.Name.Name
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() {
				continue
			}
			name := pkg + "." + fn.Name.Name
			if fn.Recv != nil {
				recv := receiverType(fn.Recv.List[0].Type)
				if !ast.IsExported(recv) {
					continue
				}
				name = pkg + "." + recv + "." + fn.Name.Name
			}
			if takesViewer(pkg, fn.Type.Params) || readsViewer(fn.Body) {
				out = append(out, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func receiverType(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return receiverType(x.X)
	case *ast.IndexExpr:
		return receiverType(x.X)
	case *ast.IndexListExpr:
		return receiverType(x.X)
	case *ast.Ident:
		return x.Name
	}
	return ""
}

func takesViewer(pkg string, params *ast.FieldList) bool {
	for _, p := range params.List {
		switch x := p.Type.(type) {
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && id.Name == "identity" && x.Sel.Name == "Viewer" {
				return true
			}
		case *ast.Ident:
			if pkg == "identity" && x.Name == "Viewer" {
				return true
			}
		}
	}
	return false
}

func readsViewer(body *ast.BlockStmt) bool {
	found := false
	if body == nil {
		return false
	}
	ast.Inspect(body, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "identity" && sel.Sel.Name == "FromContext" {
				found = true
			}
		}
		return !found
	})
	return found
}
