package docs

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// repoRoot is the module's root, seen from this package's directory (where
// go test runs).
var repoRoot = filepath.Join("..", "..")

// snippetDocs are the Markdown pages whose Go blocks are checked.
var snippetDocs = []string{"docs/migrating.md", "docs/errors.md"}

// In a checked page, every ```go block follows one of these markers, alone
// on the line before it:
//
//	<!-- compiled: name -->          the block is the declaration of name in this package
//	<!-- not compiled: reason -->    the block is another SDK's code, shown for comparison
const (
	compiledMarker    = "<!-- compiled: "
	notCompiledMarker = "<!-- not compiled: "
	markerEnd         = " -->"
)

// block is a fenced block of a Markdown page.
type block struct {
	line   int    // 1-based line of the opening fence
	info   string // the fence's info string, such as "go"
	marker string // the line before the fence
	text   string // the lines between the fences, each ending in "\n"
}

// fencedBlocks returns the fenced (```) blocks of a Markdown page, in order.
func fencedBlocks(page []byte) ([]block, error) {
	var (
		blocks []block
		cur    *block
		prev   string
		n      int
	)
	sc := bufio.NewScanner(bytes.NewReader(page))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &block{line: n, info: strings.TrimSpace(strings.TrimPrefix(trimmed, "```")), marker: strings.TrimSpace(prev)}
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
		prev = line
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("the block opened on line %d is not closed", cur.line)
	}
	return blocks, nil
}

// declarations returns the source text of every top-level declaration in
// this package's test files, by name (for a method, "Type.Method"), without
// its doc comment.
func declarations(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	decls := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, 0)
		require.NoError(t, err)
		text := func(n ast.Node) string {
			return string(src[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset]) + "\n"
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				name := d.Name.Name
				if d.Recv != nil && len(d.Recv.List) == 1 {
					typ := d.Recv.List[0].Type
					if star, ok := typ.(*ast.StarExpr); ok {
						typ = star.X
					}
					if id, ok := typ.(*ast.Ident); ok {
						name = id.Name + "." + name
					}
				}
				decls[name] = text(d)
			case *ast.GenDecl:
				if d.Tok == token.IMPORT {
					continue
				}
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						for _, id := range s.Names {
							decls[id.Name] = text(d)
						}
					case *ast.TypeSpec:
						decls[s.Name.Name] = text(d)
					}
				}
			}
		}
	}
	return decls
}

// TestMarkdownSnippets checks that each ```go block of the checked pages is
// marked, and that each block marked <!-- compiled: name --> is the
// declaration of name in this package, so the guide shows code that compiles
// and that its Examples run.
func TestMarkdownSnippets(t *testing.T) {
	decls := declarations(t)
	for _, doc := range snippetDocs {
		t.Run(doc, func(t *testing.T) {
			page, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(doc)))
			require.NoError(t, err)
			blocks, err := fencedBlocks(page)
			require.NoError(t, err, doc)
			compiled := 0
			for _, b := range blocks {
				if b.info != "go" {
					continue
				}
				switch {
				case strings.HasPrefix(b.marker, compiledMarker) && strings.HasSuffix(b.marker, markerEnd):
					name := strings.TrimSuffix(strings.TrimPrefix(b.marker, compiledMarker), markerEnd)
					want, ok := decls[name]
					require.True(t, ok, "%s:%d: the block is marked as the declaration of %q, which internal/docs does not declare", doc, b.line, name)
					require.Equal(t, want, b.text, "%s:%d: the block differs from the declaration of %s in internal/docs; copy the code from there", doc, b.line, name)
					compiled++
				case strings.HasPrefix(b.marker, notCompiledMarker) && strings.HasSuffix(b.marker, markerEnd):
				default:
					t.Errorf("%s:%d: a ```go block needs the line %sname%s (the declaration in internal/docs it shows) or %sreason%s before it",
						doc, b.line, compiledMarker, markerEnd, notCompiledMarker, markerEnd)
				}
			}
			require.NotZero(t, compiled, "%s has no compiled snippet", doc)
		})
	}
}

func TestFencedBlocks(t *testing.T) {
	page := "intro\n<!-- compiled: f -->\n```go\nfunc f() {\n\n}\n```\ntext\n```\ngo test ./...\n```\n"
	blocks, err := fencedBlocks([]byte(page))
	require.NoError(t, err)
	require.Equal(t, []block{
		{line: 3, info: "go", marker: "<!-- compiled: f -->", text: "func f() {\n\n}\n"},
		{line: 9, info: "", marker: "text", text: "go test ./...\n"},
	}, blocks)

	_, err = fencedBlocks([]byte("```go\nfunc f() {}\n"))
	require.ErrorContains(t, err, "line 1 is not closed")
}
