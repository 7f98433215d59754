package pg

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
)

// DistributeOptions tune Distribute.
type DistributeOptions struct {
	// ShardCount is the number of shards of the co-location group, used when its first table is
	// distributed (0: Citus's default, citus.shard_count, 32 unless configured).
	ShardCount int
}

// DistributeStep is what Distribute did (or found done) for one table or node.
type DistributeStep struct {
	Table  string // schema-qualified table, or a node for the role step
	Action string // created, kept, left local, or the role result
}

// Distribute puts every table of a migrated Citus database where app.table_placement says:
// tenant-data tables distributed by tenant_id and co-located as the table says (with
// analytics.conversations, or in a group of their own),
// reference tables on every node, the rest left on the coordinator; then it lets the request
// roles log in on the workers but not on the coordinator. It is idempotent: a table already in
// place is kept, so it can run after every migration and after adding a worker. ownerURL is the
// schema owner (MIGRATION_DATABASE_URL) on the coordinator.
func Distribute(ctx context.Context, ownerURL string, o DistributeOptions, progress func(DistributeStep)) ([]DistributeStep, error) {
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return nil, MapError(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	q := dbsqlc.New(conn)
	var steps []DistributeStep
	note := func(s DistributeStep) {
		steps = append(steps, s)
		if progress != nil {
			progress(s)
		}
	}

	version, err := q.CitusVersion(ctx)
	if err != nil {
		return nil, schemaError(err)
	}
	if version == "" {
		return nil, apperr.New(apperr.Invalid, "err.citus.no_extension")
	}
	if err := migratedFully(ctx, q); err != nil {
		return nil, err
	}
	missing, err := q.PlacementUnclassified(ctx)
	if err != nil {
		return nil, MapError(err)
	}
	if len(missing) > 0 {
		return nil, apperr.New(apperr.Invalid, "err.citus.unplaced_tables", strings.Join(missing, ", "))
	}
	if err := q.CitusSessionSettings(ctx, int32(max(o.ShardCount, 0))); err != nil {
		return nil, MapError(err)
	}
	plan, err := q.CitusPlacementPlan(ctx)
	if err != nil {
		return nil, MapError(err)
	}
	for _, t := range plan {
		action, err := place(ctx, q, t)
		if err != nil {
			return steps, fmt.Errorf("%s (%s): %w", t.TableName, t.Placement, err)
		}
		note(DistributeStep{Table: t.TableName, Action: action})
	}
	logins, err := q.CitusRoleLogins(ctx)
	if err != nil {
		return steps, fmt.Errorf("request role logins: %w", MapError(err))
	}
	for _, l := range logins {
		if l.Result != "LOGIN" && l.Result != "NOLOGIN" {
			return steps, apperr.New(apperr.Unavailable, "err.citus.request_role_logins", l.Node, l.Result)
		}
		note(DistributeStep{Table: "roles @ " + l.Node, Action: l.Result})
	}
	return steps, nil
}

// place handles one classified table; each Citus call is its own statement (autocommit).
func place(ctx context.Context, q *dbsqlc.Queries, t dbsqlc.CitusPlacementPlanRow) (string, error) {
	want := map[string]string{"distributed": "distributed", "reference": "reference", "coordinator": ""}[t.Placement]
	switch {
	case t.CitusTableType == want:
		if want == "" {
			return "left on the coordinator", nil
		}
		return "kept", nil
	case t.CitusTableType != "":
		return "", apperr.New(apperr.Invalid, "err.citus.already_distributed", t.CitusTableType)
	}
	// Existing rows are copied into the shards with COPY, which forced RLS refuses even to the
	// owner: lift FORCE for the copy, then restore it (the shards get the restored setting too).
	if t.RlsForced {
		if err := q.CitusForceRLS(ctx, dbsqlc.CitusForceRLSParams{TableName: t.TableName, Force: false}); err != nil {
			return "", MapError(err)
		}
	}
	var err error
	if want == "distributed" {
		err = q.CitusCreateDistributedTable(ctx, dbsqlc.CitusCreateDistributedTableParams{TableName: t.TableName, ColocateWith: t.ColocateWith})
	} else {
		err = q.CitusCreateReferenceTable(ctx, t.TableName)
	}
	if t.RlsForced {
		if ferr := q.CitusForceRLS(ctx, dbsqlc.CitusForceRLSParams{TableName: t.TableName, Force: true}); err == nil {
			err = ferr
		}
	}
	if err != nil {
		return "", MapError(err)
	}
	// The rows copied into the shards stay on the coordinator's disk, invisible; drop them. An
	// append-only table (audit.events refuses TRUNCATE) keeps that copy: say so.
	if err := q.CitusDropLocalCopy(ctx, t.TableName); err != nil {
		return "created (rows it held before, if any, stay on the coordinator's disk: " + MapError(err).Error() + ")", nil
	}
	return "created", nil
}

// migratedFully refuses a database behind (or ahead of) the embedded migrations.
func migratedFully(ctx context.Context, q *dbsqlc.Queries) error {
	version, err := q.SchemaVersion(ctx)
	if err != nil {
		return schemaError(err)
	}
	want, err := MigrationCount()
	if err != nil {
		return err
	}
	if int(version) != want {
		return apperr.New(apperr.Invalid, "err.citus.schema_version", version, want)
	}
	return nil
}

func schemaError(err error) error {
	return apperr.Wrap(err, apperr.Invalid, "err.citus.no_schema", MapError(err))
}

// RemoteNodes runs fn in a read-only transaction as p, on a connection of its own to url (the
// authenticator on a Citus coordinator), with Citus's remote-command log on, and returns the
// workers (host:port, sorted) that the transaction's statements were sent to: one for a request
// that Citus routed to the tenant's shards, every worker for one that fanned out.
func RemoteNodes(ctx context.Context, url string, p Principal, fn func(tx Tx) error) ([]string, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	nodes := map[string]bool{}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		// "issuing <command>", detail "on server <role>@<host>:<port> connectionId: <n>"
		if !strings.HasPrefix(n.Message, "issuing ") {
			return
		}
		if _, server, ok := strings.Cut(n.Detail, "@"); ok {
			nodes[strings.Fields(server)[0]] = true
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, MapError(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = inTx(ctx, conn, p, readTx, func(tx Tx) error {
		if err := tx.CitusLogRemoteCommands(ctx); err != nil {
			return err
		}
		return fn(tx)
	})
	out := make([]string, 0, len(nodes))
	for n := range nodes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, err
}
