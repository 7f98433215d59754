-- etl.use_tenant (migration 052) called app.set_context and pinned its search_path: 72 µs a
-- switch, half of what settling a quiet tenant costs in a pass, most of it re-validating the
-- whole identity and saving and restoring the pinned setting. A pass only changes the tenant, in
-- a transaction whose first statement (app.set_context) already set the role, the identity and
-- Citus's propagation of SET LOCAL: one SET LOCAL of the tenant id (about 2 µs), which Citus
-- replays on the workers the transaction has reached. No SET clause: the body names what it calls
-- in pg_catalog, and saving and restoring a pinned setting would cost more than the switch.
CREATE OR REPLACE FUNCTION etl.use_tenant(p_tenant_id bigint)
    RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF p_tenant_id < 0 THEN
        RAISE EXCEPTION 'etl.use_tenant: ids are positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SET LOCAL citus.propagate_set_commands = 'local';
    EXECUTE pg_catalog.format('SET LOCAL geniai.tenant_id = %L', coalesce(nullif(p_tenant_id, 0)::text, ''));
END
$$;

COMMENT ON FUNCTION etl.use_tenant(bigint) IS 'Switches the transaction''s tenant (SET LOCAL geniai.tenant_id, which Citus replays on the workers), keeping its role and the rest of the identity app.set_context set as the transaction''s first statement: how a pass over many tenants reads and writes each under that tenant''s policies. 0 or NULL: no tenant.';

---- create above / drop below ----

CREATE OR REPLACE FUNCTION etl.use_tenant(p_tenant_id bigint)
    RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog
    AS $$
    SELECT app.set_context(NULL, p_tenant_id, app.current_user_id(),
                           coalesce(current_setting('geniai.app_role', true), ''),
                           coalesce(current_setting('geniai.actor', true), ''),
                           coalesce(current_setting('geniai.ip', true), ''),
                           coalesce(current_setting('geniai.user_agent', true), ''))
$$;

COMMENT ON FUNCTION etl.use_tenant(bigint) IS 'Switches the transaction''s tenant (app.set_context, so Citus replays it on the workers), keeping its role and the rest of its identity: how a pass over many tenants reads and writes each under that tenant''s policies.';
