package pg

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/geniai/analytics/db/migrations"
)

// VersionTable is where tern records the applied version.
const VersionTable = "public.schema_version"

// MigrationCount is the number of embedded migrations, i.e. the fully migrated version.
func MigrationCount() (int, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return 0, err
	}
	return len(names), nil
}

// Migrate brings the database at url (MIGRATION_DATABASE_URL, the owner) to target;
// target < 0 means the latest version. progress, if not nil, hears about each step.
func Migrate(ctx context.Context, url string, target int, progress func(msg string)) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return MapError(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return fmt.Errorf("migrator: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if progress != nil {
		m.OnStart = func(seq int32, name, direction, _ string) {
			progress(fmt.Sprintf("%s %03d %s", direction, seq, name))
		}
	}
	if target < 0 {
		err = m.Migrate(ctx)
	} else {
		err = m.MigrateTo(ctx, int32(target))
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
