-- name: ContextSet :exec
-- ContextSet is the first statement of every transaction: it switches to a database role and sets
-- the request identity, all transaction-locally, so nothing survives into the next transaction.
SELECT set_config('role', @role::text, true),
       set_config('geniai.tenant_id', @tenant_id::text, true),
       set_config('geniai.user_id', @user_id::text, true),
       set_config('geniai.app_role', @app_role::text, true),
       set_config('geniai.actor', @actor::text, true),
       set_config('geniai.ip', @ip::text, true),
       set_config('geniai.user_agent', @user_agent::text, true);

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
