-- name: ContextSet :exec
-- ContextSet is the first statement of every transaction: app.set_context switches to a database
-- role and sets the request identity, all transaction-locally (SET LOCAL, which Citus replays on
-- the workers), so nothing survives into the next transaction. NULL ids and a NULL role mean unset
-- and "keep the current role".
SELECT app.set_context(sqlc.narg('role')::text, sqlc.narg('tenant_id')::bigint, sqlc.narg('user_id')::bigint,
                       @app_role::text, @actor::text, @ip::text, @user_agent::text);

-- name: ContextCurrent :one
-- ContextCurrent reports the identity the database sees (tests and diagnostics).
SELECT current_user::text AS db_role,
       coalesce(app.current_tenant_id(), 0)::bigint AS tenant_id,
       coalesce(app.current_user_id(), 0)::bigint AS user_id,
       coalesce(app.current_app_role(), '')::text AS app_role;

-- name: SchemaVersion :one
-- SchemaVersion is the applied migration version (readiness).
SELECT app.schema_version()::integer AS version;

-- name: ContextStatementTimeout :exec
-- ContextStatementTimeout bounds every later statement of the transaction (milliseconds), for
-- work with a limit of its own (the ETL's), whatever the pool's default.
SELECT set_config('statement_timeout', @milliseconds::text, true);
