package pg_test

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/geniai/analytics/db/migrations"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// The convergence migration re-issues today's definitions of what edited migrations changed
// (its header says which). On a fresh database it must change nothing: a schema dump taken
// before it and one taken after it are identical, file by file. A difference means it would
// revert a later definition, or that a definition was copied wrong.
func TestConvergenceMigrationIsANoOpOnAFreshDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := migrationNumber(t, "_converge_edited_definitions.sql")
	owner, super := pgtest.Empty(t)
	if err := pg.Migrate(ctx, owner, n-1, nil); err != nil {
		t.Fatal(err)
	}
	before, err := pgtest.DumpSchema(ctx, super)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Migrate(ctx, owner, n, nil); err != nil {
		t.Fatal(err)
	}
	after, err := pgtest.DumpSchema(ctx, super)
	if err != nil {
		t.Fatal(err)
	}
	if len(before["etl.sql"]) < 1000 || !strings.Contains(before["etl.sql"], "CREATE FUNCTION etl.merge_run") {
		t.Fatalf("the dump before migration %d does not hold the ETL functions:\n%.500s", n, before["etl.sql"])
	}
	for _, name := range keys(before, after) {
		if before[name] != after[name] {
			t.Errorf("migration %d changed %s of a fresh database:\n%s", n, name, firstDifference(before[name], after[name]))
		}
	}
}

// migrationNumber is the version of the migration whose file name ends in suffix, so the test
// follows a renumbering.
func migrationNumber(t *testing.T, suffix string) int {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, suffix) {
			n, err := strconv.Atoi(name[:3])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no migration named *%s", suffix)
	return 0
}

func keys(maps ...map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range maps {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// firstDifference shows the first differing line of two texts with a little context.
func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			from := max(0, i-3)
			return fmt.Sprintf("line %d\n  context: %s\n  before:  %s\n  after:   %s",
				i+1, strings.Join(al[from:i], "\n           "), x, y)
		}
	}
	return "(same lines)"
}
