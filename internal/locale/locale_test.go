package locale_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/locale"
)

// verbRE finds fmt verbs; %% is not one, nor "90% das" (no space flag is used).
var verbRE = regexp.MustCompile(`%[-+#0]*(\d+|\*)?(\.(\d+|\*))?[vTtbcdoOqxXUeEfFgGsp]`)

// TestCataloguesMatch: pt-BR and English hold the same keys, no empty text, and the same fmt verbs
// in the same order (a translation takes the arguments the code passes).
func TestCataloguesMatch(t *testing.T) {
	pt, en := locale.Keys(locale.PT), locale.Keys(locale.EN)
	if len(pt) < 100 {
		t.Fatalf("pt-BR catalogue has %d keys", len(pt))
	}
	for _, k := range pt {
		if !locale.Has(locale.EN, k) {
			t.Errorf("%s: missing in en.json", k)
		}
	}
	for _, k := range en {
		if !locale.Has(locale.PT, k) {
			t.Errorf("%s: missing in pt-BR.json", k)
		}
	}
	for _, k := range pt {
		p, e := locale.Translate(locale.PT, k), locale.Translate(locale.EN, k)
		if strings.TrimSpace(p) == "" || strings.TrimSpace(e) == "" {
			t.Errorf("%s: empty text", k)
		}
		if pv, ev := verbRE.FindAllString(p, -1), verbRE.FindAllString(e, -1); !slices.Equal(pv, ev) {
			t.Errorf("%s: verbs pt-BR %v, en %v", k, pv, ev)
		}
	}
}

// TestTranslate: the request's language, pt-BR for anything unknown, the key itself for a key
// that does not exist (which the other tests keep from happening).
func TestTranslate(t *testing.T) {
	if got := locale.Translate(locale.EN, "err.inbox.invalid", 7); got != "Invalid inbox 7." {
		t.Errorf("en: %q", got)
	}
	if got := locale.Translate("fr", "err.inbox.invalid", 7); got != "Caixa de entrada 7 inválida." {
		t.Errorf("unknown language: %q", got)
	}
	if missing := "no.such.key"; locale.Translate(locale.PT, missing) != missing {
		t.Error("an unknown key is not shown as itself")
	}
	for header, want := range map[string]string{
		"en-US,en;q=0.9": locale.EN, "pt-BR": locale.PT, "fr, en;q=0.5": locale.EN,
		"de, en;q=0": "", "": "", "en;q=0.3, pt;q=0.8": locale.PT, "EN_gb": locale.EN,
	} {
		if got, _ := locale.FromAcceptLanguage(header); got != want {
			t.Errorf("Accept-Language %q: %q, want %q", header, got, want)
		}
	}
}

// TestKeysUsedExist reads the repository's Go code and templates: every message key given to
// apperr.New or apperr.Wrap, locale.Translate, a page's T or translate is in the catalogues, with
// as many arguments as its text has verbs. An error built from a literal sentence, or from a
// key computed at run time, fails here, so a new message cannot skip the catalogue. The one
// computed key is a violated constraint's (err.constraint.<name>), tied to pg_constraint by
// internal/pg's TestConstraintMessages.
func TestKeysUsedExist(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	used := 0
	check := func(pos token.Pos, key string, nargs int) {
		used++
		at := fset.Position(pos)
		at.Filename, _ = filepath.Rel(root, at.Filename)
		if !locale.Has(locale.PT, key) || !locale.Has(locale.EN, key) {
			t.Errorf("%s: key %q is not in both catalogues", at, key)
			return
		}
		if nargs >= 0 {
			if n := len(verbRE.FindAllString(locale.Translate(locale.PT, key), -1)); n != nargs {
				t.Errorf("%s: %q takes %d arguments, given %d", at, key, n, nargs)
			}
		}
	}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); strings.HasPrefix(name, ".") || name == "node_modules" || name == "dbsqlc" || name == "cwsqlc" {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(path, ".go"):
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				name, keyArg := callee(call)
				if keyArg < 0 || keyArg >= len(call.Args) {
					return true
				}
				key := call.Args[keyArg]
				if lit, ok := key.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					nargs := len(call.Args) - keyArg - 1
					if call.Ellipsis.IsValid() || name == "T" || name == "translate" {
						nargs = -1
					}
					check(lit.Pos(), s, nargs)
					return true
				}
				if sel, ok := key.(*ast.SelectorExpr); ok && sel.Sel.Name == "KeyInternal" || isIdent(key, "KeyInternal") {
					return true
				}
				if rel == filepath.Join("internal", "pg", "errors.go") && isIdent(key, "key") {
					return true // err.constraint.<name>: TestConstraintMessages
				}
				if name == "T" || name == "translate" || name == "Translate" {
					return true // page text with a computed key (status.<code>, role.<role>, ...)
				}
				at := fset.Position(call.Pos())
				at.Filename = rel
				t.Errorf("%s: %s with a computed message key; write the key as a literal", at, name)
				return true
			})
		case strings.HasSuffix(path, ".html"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range templateKeyRE.FindAllSubmatch(b, -1) {
				used++
				if k := string(m[1]); !locale.Has(locale.PT, k) || !locale.Has(locale.EN, k) {
					rel, _ := filepath.Rel(root, path)
					t.Errorf("%s: key %q is not in both catalogues", rel, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used < 300 {
		t.Fatalf("found only %d key uses: is the scan reading the repository?", used)
	}
}

// templateKeyRE finds {{.T "key"}} and {{$.T "key"}}.
var templateKeyRE = regexp.MustCompile(`\.T "([^"]+)"`)

// callee names the function of a call and the index of its message-key argument (-1: not one).
func callee(call *ast.CallExpr) (string, int) {
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		pkg, _ := fn.X.(*ast.Ident)
		switch {
		case pkg != nil && pkg.Name == "apperr" && fn.Sel.Name == "New":
			return "apperr.New", 1
		case pkg != nil && pkg.Name == "apperr" && fn.Sel.Name == "Wrap":
			return "apperr.Wrap", 2
		case pkg != nil && pkg.Name == "locale" && fn.Sel.Name == "Translate":
			return "Translate", 1
		case fn.Sel.Name == "T" && len(call.Args) == 1:
			return "T", 0
		}
	case *ast.Ident:
		switch fn.Name {
		case "translate":
			return "translate", 1
		}
	}
	return "", -1
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func repoRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
