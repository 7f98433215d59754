package main

import (
	"context"
	"fmt"

	"github.com/geniai/analytics/internal/pg"
)

func init() {
	register("migrate", "aplica as migrações (MIGRATION_DATABASE_URL, o dono do esquema)", cmdMigrate)
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "migrate")
	to := fs.Int("to", -1, "versão alvo (0 desfaz tudo); padrão: a última")
	quiet := fs.Bool("quiet", false, "não listar cada passo")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := need("MIGRATION_DATABASE_URL", e.cfg.MigrationDatabaseURL); err != nil {
		return err
	}
	progress := func(msg string) { fmt.Fprintln(e.stdout, msg) }
	if *quiet {
		progress = nil
	}
	return pg.Migrate(ctx, e.cfg.MigrationDatabaseURL, *to, progress)
}
