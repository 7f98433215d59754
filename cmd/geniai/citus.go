package main

import (
	"context"
	"fmt"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/pg"
)

// cmdDBDistribute places every table of a migrated Citus database (MIGRATION_DATABASE_URL on the
// coordinator) where app.table_placement says; idempotent, run it after every migration and after
// adding a worker.
func cmdDBDistribute(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "db distribute")
	shards := fs.Int("shards", 0, "número de shards do grupo de tabelas distribuídas, na primeira distribuição (padrão: citus.shard_count do servidor)")
	quiet := fs.Bool("quiet", false, "não listar cada tabela")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *shards < 0 || *shards > 4096 {
		return apperr.New(apperr.Invalid, "err.citus.shards_range")
	}
	if err := need("MIGRATION_DATABASE_URL", e.cfg.MigrationDatabaseURL); err != nil {
		return err
	}
	progress := func(s pg.DistributeStep) { fmt.Fprintf(e.stdout, "%-32s %s\n", s.Table, s.Action) }
	if *quiet {
		progress = nil
	}
	_, err := pg.Distribute(ctx, e.cfg.MigrationDatabaseURL, pg.DistributeOptions{ShardCount: *shards}, progress)
	return err
}
