// Command schemadump writes the current schema of a migrated database to DIR, one readable SQL
// file per schema (pgtest.DumpSchema), for `make db/schema` and the drift check of `make test`:
//
//	schemadump CONNSTRING DIR
//
// Files of DIR that the dump no longer has (a schema dropped) are removed.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/geniai/analytics/internal/pgtest"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: schemadump CONNSTRING DIR")
		os.Exit(2)
	}
	if err := run(context.Background(), os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "schemadump:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, conn, dir string) error {
	files, err := pgtest.DumpSchema(ctx, conn)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.sql"))
	for _, f := range old {
		if _, keep := files[filepath.Base(f)]; !keep {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}
