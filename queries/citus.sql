-- geniai db distribute (internal/pg/citus.go): puts every table where app.table_placement says.
-- Run by the owner on the coordinator of a Citus cluster. The queries that call Citus functions
-- cannot be prepared on a single node (the functions do not exist there), so sqlc vet skips them;
-- make test/citus runs them for real. the Citus create functions run at top level: called
-- from inside a function, the copy of a table with rows into its shards can fail.

-- name: CitusVersion :one
SELECT app.citus_version()::text AS version;

-- name: PlacementUnclassified :many
SELECT t::text AS table_name FROM app.unclassified_tables() AS t;

-- name: CitusPlacementPlan :many
-- CitusPlacementPlan lists the classified tables in the order distribute handles them, with what
-- Citus currently makes of each.
SELECT p.table_name::text AS table_name, p.placement::text AS placement, coalesce(p.colocate_with, '')::text AS colocate_with,
       p.citus_table_type::text AS citus_table_type, p.rls_forced::boolean AS rls_forced
FROM app.citus_placement_plan() p;

-- name: CitusSessionSettings :exec
-- CitusSessionSettings sets what creating the distributed tables needs, for this session:
-- the triggers of audit.events (append-only refusals, the same answer on every shard) and the
-- number of shards of the first distributed table (the others are co-located with it; 0 keeps the
-- server's citus.shard_count).
SELECT set_config('citus.enable_unsafe_triggers', 'on', false),
       set_config('citus.shard_count', coalesce(nullif(@shard_count::integer, 0)::text, current_setting('citus.shard_count')), false);

-- name: CitusForceRLS :exec
SELECT app.citus_force_rls((@table_name::text)::regclass, @force::boolean);

-- name: CitusCreateDistributedTable :exec
-- @sqlc-vet-disable sqlc/db-prepare
SELECT create_distributed_table((@table_name::text)::regclass, 'tenant_id', colocate_with => @colocate_with::text);

-- name: CitusCreateReferenceTable :exec
-- @sqlc-vet-disable sqlc/db-prepare
SELECT create_reference_table((@table_name::text)::regclass);

-- name: CitusDropLocalCopy :exec
-- CitusDropLocalCopy removes the rows a table held before it was distributed (Citus leaves them
-- on the coordinator's disk, invisible).
-- @sqlc-vet-disable sqlc/db-prepare
SELECT truncate_local_data_after_distributing_table((@table_name::text)::regclass);

-- name: CitusRoleLogins :many
SELECT r.node::text AS node, r.result::text AS result FROM app.citus_role_logins() r;

-- name: CitusLogRemoteCommands :exec
-- CitusLogRemoteCommands makes Citus report, for the rest of the transaction, every command it
-- sends to a worker (as LOG notices to this client): how the bench and tests see which workers a
-- request reached.
SELECT set_config('citus.log_remote_commands', 'on', true), set_config('client_min_messages', 'log', true);
