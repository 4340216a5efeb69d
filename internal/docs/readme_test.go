package docs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadmeTranslationInStep checks that README.zh-CN.md shows the same
// commands and code as README.md: the same fenced blocks, with the same info
// strings and contents, in the same order. Only the prose is translated.
// Without README.zh-CN.md the test is skipped.
func TestReadmeTranslationInStep(t *testing.T) {
	en, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	zh, err := os.ReadFile(filepath.Join(repoRoot, "README.zh-CN.md"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("README.zh-CN.md does not exist yet: nothing to keep in step with README.md")
	}
	require.NoError(t, err)
	require.NoError(t, sameBlocks("README.md", en, "README.zh-CN.md", zh))
}

// sameBlocks reports the first difference between the fenced blocks of pages
// a and b, which must be the same blocks in the same order.
func sameBlocks(aName string, a []byte, bName string, b []byte) error {
	ab, err := fencedBlocks(a)
	if err != nil {
		return fmt.Errorf("%s: %w", aName, err)
	}
	bb, err := fencedBlocks(b)
	if err != nil {
		return fmt.Errorf("%s: %w", bName, err)
	}
	for i := 0; i < len(ab) && i < len(bb); i++ {
		x, y := ab[i], bb[i]
		if x.info != y.info || x.text != y.text {
			return fmt.Errorf("block %d differs (%s line %d, %s line %d); change both files together:\n--- %s\n```%s\n%s```\n--- %s\n```%s\n%s```",
				i+1, aName, x.line, bName, y.line, aName, x.info, x.text, bName, y.info, y.text)
		}
	}
	switch {
	case len(ab) > len(bb):
		return fmt.Errorf("%s has %d fenced blocks, %s %d: the first missing one is %s line %d", aName, len(ab), bName, len(bb), aName, ab[len(bb)].line)
	case len(bb) > len(ab):
		return fmt.Errorf("%s has %d fenced blocks, %s %d: the first extra one is %s line %d", bName, len(bb), aName, len(ab), bName, bb[len(ab)].line)
	}
	return nil
}

func TestSameBlocks(t *testing.T) {
	en := []byte("# miniauth\n\n```\ngo test ./...\n```\n\nThe login:\n\n```go\nx := 1\n```\n")
	zh := []byte("# miniauth\n\n```\ngo test ./...\n```\n\n登录：\n\n```go\nx := 1\n```\n")
	require.NoError(t, sameBlocks("README.md", en, "README.zh-CN.md", zh), "only the prose differs")

	for name, tc := range map[string]struct {
		zh   string
		want string
	}{
		"changed code":   {"```\ngo test ./...\n```\n```go\nx := 2\n```\n", "block 2 differs (README.md line 9, README.zh-CN.md line 4)"},
		"changed fence":  {"```\ngo test ./...\n```\n```\nx := 1\n```\n", "block 2 differs"},
		"reordered":      {"```go\nx := 1\n```\n```\ngo test ./...\n```\n", "block 1 differs"},
		"missing block":  {"```\ngo test ./...\n```\n", "README.md has 2 fenced blocks, README.zh-CN.md 1: the first missing one is README.md line 9"},
		"extra block":    {"```\ngo test ./...\n```\n```go\nx := 1\n```\n```\nmore\n```\n", "README.zh-CN.md has 3 fenced blocks, README.md 2: the first extra one is README.zh-CN.md line 7"},
		"unclosed fence": {"```\ngo test ./...\n", "README.zh-CN.md: the block opened on line 1 is not closed"},
	} {
		t.Run(name, func(t *testing.T) {
			require.ErrorContains(t, sameBlocks("README.md", en, "README.zh-CN.md", []byte(tc.zh)), tc.want)
		})
	}
}
