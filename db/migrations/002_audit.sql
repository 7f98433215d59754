-- The audit trail: append-only, written only by audit.log() and the change triggers, both
-- SECURITY DEFINER, both stamping the actor from the request context so nobody can write an
-- event in someone else's name.

CREATE TABLE audit.events (
    tenant_id     bigint      NOT NULL,
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user_id bigint,
    actor_role    text,
    action        text        NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)*$'),
    entity        text,
    entity_id     text,
    old_values    jsonb,
    new_values    jsonb,
    ip            inet,
    user_agent    text,
    PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE audit.events IS 'Append-only audit trail. Insert only through audit.log() or the change triggers; UPDATE, DELETE and TRUNCATE are refused for every role.';
COMMENT ON COLUMN audit.events.tenant_id IS 'Tenant the event concerns; platform events (staff, anonymous logins) use the platform tenant.';
COMMENT ON COLUMN audit.events.actor_user_id IS 'app.users.id of who acted, from the request context; NULL for anonymous or system actors (CLI, ETL).';
COMMENT ON COLUMN audit.events.actor_role IS 'App role of the actor at the time (client, admin, super_admin, support) or a system label (cli, etl, anon).';
COMMENT ON COLUMN audit.events.action IS 'Dotted verb: login.success, login.failure, users.update, tenant.view_as ...';
COMMENT ON COLUMN audit.events.old_values IS 'Row before the change (password hashes redacted); NULL for inserts and plain events.';
COMMENT ON COLUMN audit.events.new_values IS 'Row after the change (password hashes redacted), or event details.';
CREATE INDEX events_tenant_at_idx ON audit.events (tenant_id, at DESC);
CREATE INDEX events_at_idx ON audit.events (at DESC);

ALTER TABLE audit.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.events FORCE ROW LEVEL SECURITY;

-- Reads: staff everything, a tenant admin their own tenant's events.
CREATE POLICY events_staff_read ON audit.events FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY events_tenant_admin_read ON audit.events FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin');
-- Writes: only the owner, which is who the SECURITY DEFINER writers run as.
CREATE POLICY events_owner_insert ON audit.events FOR INSERT TO geniai_owner WITH CHECK (true);
CREATE POLICY events_owner_read ON audit.events FOR SELECT TO geniai_owner USING (true);

GRANT SELECT ON audit.events TO geniai_tenant, geniai_staff;

CREATE FUNCTION audit.refuse_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'audit.events is append-only'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
COMMENT ON FUNCTION audit.refuse_change() IS 'Refuses UPDATE, DELETE and TRUNCATE on audit.events, even by its owner.';
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON audit.events
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON audit.events
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- audit.actor_role labels the actor: the app role from the context, else the database role the
-- request switched to (geniai_etl → etl), else the session user (a migration or a DBA).
CREATE FUNCTION audit.actor_role() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT coalesce(nullif(current_setting('geniai.app_role', true), ''),
                    nullif(current_setting('geniai.actor', true), ''),
                    CASE current_setting('role', true)
                        WHEN 'geniai_etl' THEN 'etl'
                        WHEN 'geniai_anon' THEN 'anon'
                        ELSE session_user::text
                    END)
$$;

CREATE FUNCTION audit.redact(row_values jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN row_values ? 'password_hash'
                THEN jsonb_set(row_values, '{password_hash}', '"[redacted]"')
                ELSE row_values END
$$;
COMMENT ON FUNCTION audit.redact(jsonb) IS 'Replaces a password hash in a row image with [redacted].';

-- audit.log writes one event for the current actor. A tenant user may only log events of their
-- own tenant; p_tenant_id NULL means the context tenant, or the platform tenant when there is none.
CREATE FUNCTION audit.log(p_action text, p_entity text, p_entity_id text, p_old jsonb, p_new jsonb,
                          p_tenant_id bigint DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ctx_tenant bigint := nullif(current_setting('geniai.tenant_id', true), '')::bigint;
    tenant     bigint := coalesce(p_tenant_id, ctx_tenant);
    role       text   := nullif(current_setting('geniai.app_role', true), '');
    event_id   bigint;
BEGIN
    IF tenant IS NULL THEN
        SELECT id INTO tenant FROM app.tenants WHERE is_platform;
    END IF;
    -- Only staff may log for a tenant other than their context's; a tenant or loader context
    -- without a tenant may log nothing (a forgotten context must not reach any tenant's trail).
    IF coalesce(role, '') NOT IN ('super_admin', 'support')
       AND ((ctx_tenant IS NOT NULL AND p_tenant_id IS NOT NULL AND p_tenant_id <> ctx_tenant)
            OR (ctx_tenant IS NULL AND current_setting('role') IN ('geniai_tenant', 'geniai_etl'))) THEN
        RAISE EXCEPTION 'cannot write an audit event for another tenant'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO audit.events (tenant_id, actor_user_id, actor_role, action, entity, entity_id,
                              old_values, new_values, ip, user_agent)
    VALUES (tenant,
            nullif(current_setting('geniai.user_id', true), '')::bigint,
            audit.actor_role(),
            p_action, p_entity, p_entity_id,
            audit.redact(p_old), audit.redact(p_new),
            nullif(current_setting('geniai.ip', true), '')::inet,
            nullif(current_setting('geniai.user_agent', true), ''))
    RETURNING id INTO event_id;
    RETURN event_id;
END
$$;
COMMENT ON FUNCTION audit.log(text, text, text, jsonb, jsonb, bigint) IS 'Appends an audit event; the actor, ip and user agent come from the request context, never from arguments.';
REVOKE ALL ON FUNCTION audit.log(text, text, text, jsonb, jsonb, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.log(text, text, text, jsonb, jsonb, bigint)
    TO geniai_tenant, geniai_staff, geniai_etl;

-- audit.record_change is the row trigger on the audited app tables.
CREATE FUNCTION audit.record_change() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    old_row  jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    new_row  jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    any_row  jsonb := coalesce(new_row, old_row);
    -- Columns that only record sign-in bookkeeping; a change to them alone is audited by the
    -- login functions as login.* events, not as a row change.
    noise    text[] := ARRAY['updated_at', 'last_login_at', 'last_login_ip', 'failed_attempts',
                             'locked_until', 'lockout_count'];
    tenant   bigint;
    entity_id text;
BEGIN
    IF TG_OP = 'UPDATE' AND (old_row - noise) = (new_row - noise) THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'tenants' THEN
        tenant := (any_row ->> 'id')::bigint;
        entity_id := any_row ->> 'id';
    ELSE
        tenant := (any_row ->> 'tenant_id')::bigint;
        entity_id := coalesce(any_row ->> 'id', any_row ->> 'inbox_id', any_row ->> 'tenant_id');
    END IF;
    PERFORM audit.log(TG_TABLE_NAME || '.' || lower(TG_OP), TG_TABLE_NAME, entity_id,
                      old_row, new_row, tenant);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION audit.record_change() IS 'AFTER row trigger: records inserts, updates and deletes with old and new values (password hashes redacted).';
REVOKE ALL ON FUNCTION audit.record_change() FROM PUBLIC;

---- create above / drop below ----

DROP FUNCTION audit.record_change();
DROP FUNCTION audit.log(text, text, text, jsonb, jsonb, bigint);
DROP FUNCTION audit.redact(jsonb);
DROP FUNCTION audit.actor_role();
DROP TABLE audit.events;
DROP FUNCTION audit.refuse_change();
