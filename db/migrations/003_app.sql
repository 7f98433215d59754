-- Platform tables: tenants, users, the Chatwoot inbox mapping and per-tenant settings.
-- Small, shared, reference tables on Citus; RLS still keeps each tenant to its own rows.

CREATE TABLE app.tenants (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug          text        NOT NULL UNIQUE
                  CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$'),
    name          text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 120),
    status        text        NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'trial', 'suspended', 'cancelled')),
    trial_ends_at timestamptz,
    plan          text        NOT NULL DEFAULT 'basic' CHECK (plan IN ('basic', 'pro', 'enterprise')),
    timezone      text        NOT NULL DEFAULT 'America/Sao_Paulo' CHECK (app.is_valid_timezone(timezone)),
    is_platform   boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'trial' OR trial_ends_at IS NOT NULL)
);
COMMENT ON TABLE app.tenants IS 'GeniAI clients. One row, is_platform, is GeniAI itself: staff users belong to it.';
COMMENT ON COLUMN app.tenants.slug IS 'URL-safe identifier: lowercase letters, digits and inner hyphens, 1-40 characters.';
COMMENT ON COLUMN app.tenants.status IS 'active and trial (until trial_ends_at) may sign in; suspended and cancelled may not, effective at the next request.';
COMMENT ON COLUMN app.tenants.timezone IS 'IANA zone; days and hours of this tenant''s metrics are computed in it.';
COMMENT ON COLUMN app.tenants.is_platform IS 'True for the single GeniAI platform tenant.';
CREATE UNIQUE INDEX tenants_one_platform_idx ON app.tenants (is_platform) WHERE is_platform;
CREATE TRIGGER tenants_touch BEFORE UPDATE ON app.tenants
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

INSERT INTO app.tenants (slug, name, is_platform) VALUES ('geniai', 'GeniAI', true);

CREATE TABLE app.users (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       bigint      NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    email           text        NOT NULL UNIQUE
                    CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
    password_hash   text        NOT NULL CHECK (password_hash ~ '^\$2[aby]\$'),
    full_name       text        NOT NULL DEFAULT '' CHECK (length(full_name) <= 120),
    role            text        NOT NULL CHECK (role IN ('client', 'admin', 'super_admin', 'support')),
    is_active       boolean     NOT NULL DEFAULT true,
    last_login_at   timestamptz,
    last_login_ip   inet,
    failed_attempts integer     NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until    timestamptz,
    lockout_count   integer     NOT NULL DEFAULT 0 CHECK (lockout_count >= 0),
    auth_version    integer     NOT NULL DEFAULT 1 CHECK (auth_version >= 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE app.users IS 'People who sign in. Tenant users are client or admin; staff (super_admin, support) belong to the platform tenant.';
COMMENT ON COLUMN app.users.email IS 'Login, stored lowercase, so unique case-insensitively.';
COMMENT ON COLUMN app.users.password_hash IS 'bcrypt hash. Readable only through SECURITY DEFINER functions; no role has SELECT on it.';
COMMENT ON COLUMN app.users.failed_attempts IS 'Consecutive failed sign-ins since the last success or lockout.';
COMMENT ON COLUMN app.users.locked_until IS 'Sign-in refused until this time after too many failures.';
COMMENT ON COLUMN app.users.lockout_count IS 'Lockouts since the last successful sign-in; each doubles the next lockout.';
COMMENT ON COLUMN app.users.auth_version IS 'Bumped on password change and deactivation; a session carrying an older value is refused.';
CREATE INDEX users_tenant_idx ON app.users (tenant_id);
CREATE TRIGGER users_touch BEFORE UPDATE ON app.users
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

-- auth_version only moves forward: lowering it would revive sessions that were meant to end.
CREATE FUNCTION app.users_auth_version_forward() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.auth_version < OLD.auth_version THEN
        RAISE EXCEPTION 'auth_version cannot decrease'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_auth_version_forward';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.users_auth_version_forward() IS 'Refuses lowering app.users.auth_version.';
CREATE TRIGGER users_auth_version_forward BEFORE UPDATE OF auth_version ON app.users
    FOR EACH ROW EXECUTE FUNCTION app.users_auth_version_forward();

-- Staff roles exist only in the platform tenant, tenant roles only outside it.
CREATE FUNCTION app.users_check_role() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    platform boolean;
BEGIN
    SELECT is_platform INTO platform FROM app.tenants WHERE id = NEW.tenant_id;
    IF platform IS NULL THEN
        RETURN NEW; -- the foreign key reports the unknown tenant
    END IF;
    IF platform <> (NEW.role IN ('super_admin', 'support')) THEN
        RAISE EXCEPTION 'role % is not allowed in this tenant', NEW.role
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_role_matches_tenant';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.users_check_role() IS 'Staff roles only in the platform tenant; client/admin only in client tenants.';
REVOKE ALL ON FUNCTION app.users_check_role() FROM PUBLIC;
CREATE TRIGGER users_check_role BEFORE INSERT OR UPDATE OF role, tenant_id ON app.users
    FOR EACH ROW EXECUTE FUNCTION app.users_check_role();

CREATE TABLE app.tenant_inboxes (
    tenant_id    bigint      NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    inbox_id     integer     NOT NULL UNIQUE,
    account_id   integer,
    inbox_name   text        NOT NULL DEFAULT '',
    channel_type text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, inbox_id)
);
COMMENT ON TABLE app.tenant_inboxes IS 'Which Chatwoot inboxes feed which tenant. An inbox belongs to at most one tenant (UNIQUE inbox_id).';
COMMENT ON COLUMN app.tenant_inboxes.inbox_id IS 'Chatwoot inboxes.id in the source database.';
COMMENT ON COLUMN app.tenant_inboxes.account_id IS 'Chatwoot accounts.id of the inbox, as seen when it was mapped.';
COMMENT ON COLUMN app.tenant_inboxes.inbox_name IS 'Chatwoot inbox name as seen when mapped (display only).';

CREATE TABLE app.tenant_settings (
    tenant_id           bigint      PRIMARY KEY REFERENCES app.tenants (id) ON DELETE CASCADE,
    display_name        text        NOT NULL DEFAULT '' CHECK (length(display_name) <= 120),
    logo_url            text        CHECK (logo_url ~ '^https?://[^\s"''<>]+$' AND length(logo_url) <= 500),
    primary_color       text        NOT NULL DEFAULT '#0F766E' CHECK (primary_color ~ '^#[0-9A-Fa-f]{6}$'),
    secondary_color     text        NOT NULL DEFAULT '#B45309' CHECK (secondary_color ~ '^#[0-9A-Fa-f]{6}$'),
    default_period_days integer     NOT NULL DEFAULT 30 CHECK (default_period_days IN (1, 7, 30, 90, 365)),
    lead_labels         text[]      NOT NULL DEFAULT '{}',
    lead_regex          text        CHECK (app.is_valid_regex(lead_regex)),
    lead_any_message    boolean     NOT NULL DEFAULT true,
    visit_labels        text[]      NOT NULL DEFAULT '{visita-agendada}',
    visit_regex         text        CHECK (app.is_valid_regex(visit_regex)),
    converted_labels    text[]      NOT NULL DEFAULT '{matriculado}',
    converted_regex     text        CHECK (app.is_valid_regex(converted_regex)),
    rules_version       integer     NOT NULL DEFAULT 1,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE app.tenant_settings IS 'Branding, dashboard defaults and funnel rules; one row per tenant, created with the tenant.';
COMMENT ON COLUMN app.tenant_settings.lead_any_message IS 'Funnel: a conversation is a lead when the contact wrote at least one message (the default rule).';
COMMENT ON COLUMN app.tenant_settings.lead_labels IS 'Funnel: any of these Chatwoot labels makes a lead.';
COMMENT ON COLUMN app.tenant_settings.lead_regex IS 'Funnel: case-insensitive regular expression matched against contact messages only.';
COMMENT ON COLUMN app.tenant_settings.visit_labels IS 'Funnel: any of these labels makes a visit scheduled (and so a lead).';
COMMENT ON COLUMN app.tenant_settings.converted_labels IS 'Funnel: any of these labels makes a conversion (and so a visit and a lead).';
COMMENT ON COLUMN app.tenant_settings.rules_version IS 'Bumped whenever a funnel rule changes; the ETL re-applies rules to history when it moves.';
CREATE TRIGGER tenant_settings_touch BEFORE UPDATE ON app.tenant_settings
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();

CREATE FUNCTION app.tenants_create_settings() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO app.tenant_settings (tenant_id, display_name) VALUES (NEW.id, NEW.name);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION app.tenants_create_settings() IS 'AFTER INSERT on tenants: every tenant has a settings row.';
CREATE TRIGGER tenants_create_settings AFTER INSERT ON app.tenants
    FOR EACH ROW EXECUTE FUNCTION app.tenants_create_settings();
INSERT INTO app.tenant_settings (tenant_id, display_name) SELECT id, name FROM app.tenants;

-- Audit every change to the platform tables.
CREATE TRIGGER tenants_audit AFTER INSERT OR UPDATE OR DELETE ON app.tenants
    FOR EACH ROW EXECUTE FUNCTION audit.record_change();
CREATE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON app.users
    FOR EACH ROW EXECUTE FUNCTION audit.record_change();
CREATE TRIGGER tenant_inboxes_audit AFTER INSERT OR UPDATE OR DELETE ON app.tenant_inboxes
    FOR EACH ROW EXECUTE FUNCTION audit.record_change();
CREATE TRIGGER tenant_settings_audit AFTER INSERT OR UPDATE OR DELETE ON app.tenant_settings
    FOR EACH ROW EXECUTE FUNCTION audit.record_change();

-- Row-Level Security. Tenant roles see their own tenant; staff see all and only super_admin
-- writes; the ETL reads the tenant list and the mapping and settings of the tenant it loads.
ALTER TABLE app.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.tenants FORCE ROW LEVEL SECURITY;
ALTER TABLE app.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.users FORCE ROW LEVEL SECURITY;
ALTER TABLE app.tenant_inboxes ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.tenant_inboxes FORCE ROW LEVEL SECURITY;
ALTER TABLE app.tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.tenant_settings FORCE ROW LEVEL SECURITY;

CREATE POLICY tenants_tenant_read ON app.tenants FOR SELECT TO geniai_tenant
    USING (id = (SELECT app.current_tenant_id()));
CREATE POLICY tenants_staff_read ON app.tenants FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY tenants_staff_insert ON app.tenants FOR INSERT TO geniai_staff
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin' AND NOT is_platform);
CREATE POLICY tenants_staff_update ON app.tenants FOR UPDATE TO geniai_staff
    USING ((SELECT app.current_app_role()) = 'super_admin')
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY tenants_etl_read ON app.tenants FOR SELECT TO geniai_etl USING (true);
-- The owner reads tenants inside SECURITY DEFINER functions (login, audit).
CREATE POLICY tenants_owner_read ON app.tenants FOR SELECT TO geniai_owner USING (true);

CREATE POLICY users_tenant_read ON app.users FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY users_tenant_admin_insert ON app.users FOR INSERT TO geniai_tenant
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id())
                AND (SELECT app.current_app_role()) = 'admin' AND role IN ('admin', 'client'));
CREATE POLICY users_tenant_admin_update ON app.users FOR UPDATE TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin')
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id())
                AND (SELECT app.current_app_role()) = 'admin' AND role IN ('admin', 'client'));
CREATE POLICY users_staff_read ON app.users FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY users_staff_insert ON app.users FOR INSERT TO geniai_staff
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY users_staff_update ON app.users FOR UPDATE TO geniai_staff
    USING ((SELECT app.current_app_role()) = 'super_admin')
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY users_owner_all ON app.users FOR ALL TO geniai_owner USING (true) WITH CHECK (true);

CREATE POLICY tenant_inboxes_tenant_read ON app.tenant_inboxes FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY tenant_inboxes_staff_read ON app.tenant_inboxes FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY tenant_inboxes_staff_insert ON app.tenant_inboxes FOR INSERT TO geniai_staff
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY tenant_inboxes_staff_delete ON app.tenant_inboxes FOR DELETE TO geniai_staff
    USING ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY tenant_inboxes_etl_read ON app.tenant_inboxes FOR SELECT TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()));

CREATE POLICY tenant_settings_tenant_read ON app.tenant_settings FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY tenant_settings_tenant_admin_update ON app.tenant_settings FOR UPDATE TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin')
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin');
CREATE POLICY tenant_settings_staff_read ON app.tenant_settings FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY tenant_settings_staff_insert ON app.tenant_settings FOR INSERT TO geniai_staff
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY tenant_settings_staff_update ON app.tenant_settings FOR UPDATE TO geniai_staff
    USING ((SELECT app.current_app_role()) = 'super_admin')
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY tenant_settings_etl_read ON app.tenant_settings FOR SELECT TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()));

-- Grants: identity columns and tenant_id are never updatable; password_hash is never readable.
GRANT SELECT ON app.tenants TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT (slug, name, status, trial_ends_at, plan, timezone) ON app.tenants TO geniai_staff;
GRANT UPDATE (name, status, trial_ends_at, plan, timezone) ON app.tenants TO geniai_staff;

GRANT SELECT (id, tenant_id, email, full_name, role, is_active, last_login_at, last_login_ip,
              failed_attempts, locked_until, lockout_count, auth_version, created_at, updated_at)
    ON app.users TO geniai_tenant, geniai_staff;
GRANT INSERT (tenant_id, email, password_hash, full_name, role, is_active)
    ON app.users TO geniai_tenant, geniai_staff;
GRANT UPDATE (email, password_hash, full_name, role, is_active, failed_attempts, locked_until,
              lockout_count, auth_version)
    ON app.users TO geniai_tenant, geniai_staff;

GRANT SELECT ON app.tenant_inboxes TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT (tenant_id, inbox_id, account_id, inbox_name, channel_type), DELETE
    ON app.tenant_inboxes TO geniai_staff;

GRANT SELECT ON app.tenant_settings TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT (tenant_id, display_name) ON app.tenant_settings TO geniai_staff;
GRANT UPDATE (display_name, logo_url, primary_color, secondary_color, default_period_days,
              lead_labels, lead_regex, lead_any_message, visit_labels, visit_regex,
              converted_labels, converted_regex, rules_version)
    ON app.tenant_settings TO geniai_tenant, geniai_staff;

---- create above / drop below ----

DROP TABLE app.tenant_settings;
DROP TABLE app.tenant_inboxes;
DROP TABLE app.users;
DROP FUNCTION app.users_check_role();
DROP FUNCTION app.users_auth_version_forward();
DROP TABLE app.tenants;
DROP FUNCTION app.tenants_create_settings();
