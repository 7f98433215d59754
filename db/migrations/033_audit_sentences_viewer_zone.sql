-- The audit trail read by people, and the zone each person reads times in.
--
-- audit.event_kind names what an event means to a person ("suspended a client", "reset a
-- password") from its action and row images; audit.event_changes lists the fields a person
-- cares about that changed (or, for an insert or a plain event, were set), leaving out keys,
-- hashes and sign-in bookkeeping. The panel turns both into a sentence with the real names
-- (docs/security.md, "The audit trail").
--
-- app.users.timezone is the zone a user reads timestamps in (default America/Sao_Paulo); each
-- user sets their own through app.user_set_timezone (audited by the users trigger).

CREATE FUNCTION audit.event_changes(p_old jsonb, p_new jsonb) RETURNS jsonb
    LANGUAGE sql
    IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog
    AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('field', k.key, 'before', p_old -> k.key, 'after', p_new -> k.key)
                              ORDER BY k.key), '[]'::jsonb)
    FROM (SELECT jsonb_object_keys(coalesce(p_old, '{}'::jsonb)) AS key
          UNION
          SELECT jsonb_object_keys(coalesce(p_new, '{}'::jsonb))) k
    WHERE k.key <> ALL (ARRAY['id', 'tenant_id', 'created_at', 'updated_at', 'auth_version', 'password_hash',
                              'failed_attempts', 'lockout_count', 'last_login_at', 'last_login_ip',
                              'rules_version', 'is_platform', 'known'])
      AND (p_old -> k.key) IS DISTINCT FROM (p_new -> k.key)
      AND NOT (p_old IS NULL AND p_new -> k.key = 'null'::jsonb)
$$;
COMMENT ON FUNCTION audit.event_changes(jsonb, jsonb) IS 'The fields of an audit event a person cares about, [{field, before, after}] by field name: those whose value differs between the row images (for an insert or a plain event, those set), without ids, timestamps, hashes and sign-in bookkeeping.';

CREATE FUNCTION audit.event_kind(p_action text, p_old jsonb, p_new jsonb, p_actor_user_id bigint, p_entity_id text)
    RETURNS text
    LANGUAGE sql
    IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog
    AS $$
    SELECT CASE
        WHEN p_action = 'tenants.insert' THEN 'tenant.created'
        WHEN p_action = 'tenants.delete' THEN 'tenant.deleted'
        WHEN p_action = 'tenants.update' THEN
            CASE
                WHEN (p_old ->> 'status') IS DISTINCT FROM (p_new ->> 'status') THEN
                    CASE p_new ->> 'status'
                        WHEN 'suspended' THEN 'tenant.suspended'
                        WHEN 'cancelled' THEN 'tenant.cancelled'
                        WHEN 'active' THEN 'tenant.reactivated'
                        ELSE 'tenant.updated'
                    END
                WHEN (p_old - 'timezone' - 'updated_at') = (p_new - 'timezone' - 'updated_at') THEN 'tenant.timezone'
                ELSE 'tenant.updated'
            END
        WHEN p_action = 'tenant_settings.insert' THEN 'settings.created'
        WHEN p_action = 'tenant_settings.update' THEN
            CASE
                WHEN (p_old -> 'lead_labels', p_old -> 'lead_regex', p_old -> 'lead_any_message', p_old -> 'visit_labels',
                      p_old -> 'visit_regex', p_old -> 'converted_labels', p_old -> 'converted_regex', p_old -> 'lead_exclusion_labels')
                     IS DISTINCT FROM
                     (p_new -> 'lead_labels', p_new -> 'lead_regex', p_new -> 'lead_any_message', p_new -> 'visit_labels',
                      p_new -> 'visit_regex', p_new -> 'converted_labels', p_new -> 'converted_regex', p_new -> 'lead_exclusion_labels')
                    THEN 'settings.funnel'
                WHEN (p_old -> 'display_name', p_old -> 'logo_url', p_old -> 'primary_color', p_old -> 'secondary_color', p_old -> 'default_period_days')
                     IS DISTINCT FROM
                     (p_new -> 'display_name', p_new -> 'logo_url', p_new -> 'primary_color', p_new -> 'secondary_color', p_new -> 'default_period_days')
                    THEN 'settings.branding'
                ELSE 'settings.updated'
            END
        WHEN p_action = 'tenant_settings.delete' THEN 'settings.deleted'
        WHEN p_action = 'tenant_inboxes.insert' THEN 'inbox.mapped'
        WHEN p_action = 'tenant_inboxes.delete' THEN 'inbox.unmapped'
        WHEN p_action = 'tenant_inboxes.update' THEN 'inbox.updated'
        WHEN p_action = 'users.insert' THEN 'user.created'
        WHEN p_action = 'users.delete' THEN 'user.deleted'
        WHEN p_action = 'users.update' THEN
            CASE
                WHEN (p_old ->> 'is_active') = 'true' AND (p_new ->> 'is_active') = 'false' THEN 'user.deactivated'
                WHEN (p_old ->> 'is_active') = 'false' AND (p_new ->> 'is_active') = 'true' THEN 'user.reactivated'
                WHEN (p_old ->> 'role') IS DISTINCT FROM (p_new ->> 'role') THEN 'user.role_changed'
                WHEN audit.event_changes(p_old, p_new) = '[]'::jsonb
                     AND (p_old -> 'auth_version') IS DISTINCT FROM (p_new -> 'auth_version') THEN
                    CASE WHEN p_actor_user_id::text = p_entity_id THEN 'user.password_changed' ELSE 'user.password_reset' END
                WHEN (p_old - 'timezone' - 'updated_at') = (p_new - 'timezone' - 'updated_at') THEN 'user.timezone'
                ELSE 'user.updated'
            END
        WHEN p_action = 'user.unlock' THEN 'user.unlocked'
        WHEN p_action = 'login.success' THEN 'access.login'
        WHEN p_action = 'login.failure' THEN 'access.login_failed'
        WHEN p_action = 'login.lockout' THEN 'access.locked'
        WHEN p_action = 'login.attack_suspected' THEN 'access.attack'
        WHEN p_action = 'logout' THEN 'access.logout'
        WHEN p_action = 'password.change' THEN 'access.password_changed'
        WHEN p_action = 'password.change_failed' THEN 'access.password_change_failed'
        WHEN p_action = 'session.hijack_user_agent' THEN 'access.session_user_agent'
        WHEN p_action = 'session.ip_changed' THEN 'access.session_ip'
        WHEN p_action = 'tenant.view_as' THEN 'view.as_client'
        ELSE 'other'
    END
$$;
COMMENT ON FUNCTION audit.event_kind(text, jsonb, jsonb, bigint, text) IS 'What an audit event means to a person (tenant.suspended, user.password_reset, access.login, view.as_client ...): a key of the panel''s sentences, "other" for an action it has no sentence for.';

GRANT EXECUTE ON FUNCTION audit.event_changes(jsonb, jsonb) TO geniai_staff, geniai_tenant;
GRANT EXECUTE ON FUNCTION audit.event_kind(text, jsonb, jsonb, bigint, text) TO geniai_staff, geniai_tenant;

ALTER TABLE app.users ADD COLUMN timezone text NOT NULL DEFAULT 'America/Sao_Paulo';
ALTER TABLE app.users ADD CONSTRAINT users_timezone_check CHECK (app.is_valid_timezone(timezone)) NOT VALID;
ALTER TABLE app.users VALIDATE CONSTRAINT users_timezone_check;
COMMENT ON COLUMN app.users.timezone IS 'IANA zone this user reads timestamps in (the admin panel''s times, the audit log''s dates); set by the user (app.user_set_timezone).';
GRANT SELECT (timezone) ON app.users TO geniai_tenant, geniai_staff;

CREATE FUNCTION app.user_set_timezone(p_timezone text) RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_id bigint;
BEGIN
    UPDATE app.users u SET timezone = p_timezone
    WHERE u.id = app.current_user_id()
    RETURNING u.id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION app.user_set_timezone(text) IS 'Changes the zone the context user reads times in (their own row only; users_timezone_check refuses an unknown zone); NULL without a context user. Audited by the users trigger.';
REVOKE ALL ON FUNCTION app.user_set_timezone(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.user_set_timezone(text) TO geniai_tenant, geniai_staff;

---- create above / drop below ----

DROP FUNCTION app.user_set_timezone(text);
ALTER TABLE app.users DROP COLUMN timezone;
DROP FUNCTION audit.event_kind(text, jsonb, jsonb, bigint, text);
DROP FUNCTION audit.event_changes(jsonb, jsonb);
