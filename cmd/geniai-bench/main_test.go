package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/bench"
)

// TestReadme: `geniai-bench readme` copies latest.md between the README's markers and leaves the
// rest of the file alone; a bad flag or a missing variable is an error, not a run.
func TestReadme(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("# x\n"+bench.MarkerStart+"\nold\n"+bench.MarkerEnd+"\nafter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.md"), []byte("| new table |\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	getenv := func(string) string { return "" }
	if err := run(context.Background(), []string{"readme", "--readme", readme, "--out", dir}, getenv, &out, &errs); err != nil {
		t.Fatalf("%v: %s", err, errs.String())
	}
	b, _ := os.ReadFile(readme)
	if s := string(b); !strings.Contains(s, "| new table |") || strings.Contains(s, "old") || !strings.HasSuffix(s, "after\n") {
		t.Fatalf("README after update:\n%s", s)
	}
	if err := run(context.Background(), []string{"--scale", "huge"}, getenv, &out, &errs); err == nil || !strings.Contains(err.Error(), "escala") {
		t.Errorf("unknown scale: %v", err)
	}
	if err := run(context.Background(), []string{"--scale", "small"}, getenv, &out, &errs); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("no environment: %v", err)
	}
	if err := run(context.Background(), []string{"--nope"}, getenv, &out, &errs); err != errUsage {
		t.Errorf("bad flag: %v", err)
	}
}
