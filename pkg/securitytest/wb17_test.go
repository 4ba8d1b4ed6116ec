package securitytest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// secretish reports whether an expression names a secret: a password,
// client secret, CSRF token, raw token, code or key (not a token type,
// a hint or an id).
func secretish(e ast.Expr) bool {
	var name string
	switch v := e.(type) {
	case *ast.Ident:
		name = v.Name
	case *ast.SelectorExpr:
		name = v.Sel.Name
	case *ast.CallExpr: // e.g. r.PostForm.Get("client_secret")
		if sel, ok := v.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Get" && len(v.Args) == 1 {
			if lit, ok := v.Args[0].(*ast.BasicLit); ok {
				name = strings.Trim(lit.Value, `"`)
			}
		}
	}
	n := strings.ToLower(name)
	for _, safe := range []string{"type", "hint", "use", "id", "len", "prefix", "format", "name", "field", "kind", "env", "count"} {
		if strings.HasSuffix(n, safe) {
			return false
		}
	}
	for _, s := range []string{"secret", "password", "csrf", "verifier", "apikey", "refresh_token", "access_token"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// trivial reports whether e is a literal or nil (comparing a secret with ""
// leaks nothing).
func trivial(e ast.Expr) bool {
	switch v := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return v.Name == "nil"
	}
	return false
}

// TestWB17_ConstantTimeComparisons walks every non-test Go file of the
// programs and fails on `==`, `!=`, bytes.Equal or strings.EqualFold applied
// to a secret-looking value and something that is not a literal: secrets
// must be compared with subtle.ConstantTimeCompare or hmac.Equal, or looked
// up by hash (API keys, tokens by HMAC signature), or verified by Argon2id.
func TestWB17_ConstantTimeComparisons(t *testing.T) {
	fset := token.NewFileSet()
	var findings []string
	constantTime := 0
	for _, root := range []string{"../../pkg", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch v := n.(type) {
				case *ast.BinaryExpr:
					if (v.Op == token.EQL || v.Op == token.NEQ) && (secretish(v.X) || secretish(v.Y)) && !trivial(v.X) && !trivial(v.Y) {
						findings = append(findings, fset.Position(v.Pos()).String())
					}
				case *ast.CallExpr:
					sel, ok := v.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					pkg, _ := sel.X.(*ast.Ident)
					if pkg == nil {
						return true
					}
					call := pkg.Name + "." + sel.Sel.Name
					switch call {
					case "subtle.ConstantTimeCompare", "hmac.Equal":
						constantTime++
					case "bytes.Equal", "strings.EqualFold", "slices.Equal":
						for _, a := range v.Args {
							if secretish(a) {
								findings = append(findings, fset.Position(v.Pos()).String()+" ("+call+")")
							}
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range findings {
		t.Errorf("secret compared in variable time at %s", f)
	}
	if constantTime < 3 {
		t.Fatalf("found %d constant-time comparisons; the walk is not seeing the code", constantTime)
	}
}
