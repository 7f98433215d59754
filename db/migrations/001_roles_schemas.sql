-- Roles, schemas and the request-context helpers every policy reads.
--
-- Roles are cluster-wide, so they are created idempotently and never dropped by the down part
-- (other databases on the same cluster, such as parallel test databases, share them).
-- geniai_owner runs this migration: it owns every object and needs CREATEROLE to create the
-- others (a superuser may run the first migration instead).

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'geniai_authenticator') THEN
        CREATE ROLE geniai_authenticator LOGIN NOINHERIT;
    END IF;
END
$$;

-- The authenticator holds no privileges of its own; it may only switch to these roles
-- (NOINHERIT: membership grants SET ROLE, not the members' privileges).
GRANT geniai_anon, geniai_tenant, geniai_staff, geniai_etl TO geniai_authenticator;

CREATE SCHEMA app AUTHORIZATION geniai_owner;
CREATE SCHEMA analytics AUTHORIZATION geniai_owner;
CREATE SCHEMA etl AUTHORIZATION geniai_owner;
CREATE SCHEMA audit AUTHORIZATION geniai_owner;
COMMENT ON SCHEMA app IS 'Platform tables: tenants, users, inbox mapping, settings, login throttling.';
COMMENT ON SCHEMA analytics IS 'Per-tenant analytics loaded from Chatwoot; written only by the ETL merge functions.';
COMMENT ON SCHEMA etl IS 'ETL bookkeeping: runs, watermarks, UNLOGGED staging.';
COMMENT ON SCHEMA audit IS 'Append-only audit trail; written through SECURITY DEFINER functions and triggers only.';

REVOKE ALL ON SCHEMA app, analytics, etl, audit FROM PUBLIC;
GRANT USAGE ON SCHEMA app TO geniai_anon, geniai_tenant, geniai_staff, geniai_etl;
GRANT USAGE ON SCHEMA analytics TO geniai_tenant, geniai_staff, geniai_etl;
GRANT USAGE ON SCHEMA etl TO geniai_tenant, geniai_staff, geniai_etl;
GRANT USAGE ON SCHEMA audit TO geniai_tenant, geniai_staff, geniai_etl;

-- New functions are not executable by PUBLIC unless granted explicitly.
ALTER DEFAULT PRIVILEGES FOR ROLE geniai_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The request context. internal/pg sets these transaction-locally (set_config(..., true)) in the
-- first statement of every transaction; unset means NULL, so a forgotten context matches no row.
CREATE FUNCTION app.current_tenant_id() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('geniai.tenant_id', true), '')::bigint $$;
COMMENT ON FUNCTION app.current_tenant_id() IS 'Tenant of the current request (geniai.tenant_id), NULL when unset.';

CREATE FUNCTION app.current_user_id() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('geniai.user_id', true), '')::bigint $$;
COMMENT ON FUNCTION app.current_user_id() IS 'User of the current request (geniai.user_id), NULL when unset or a system actor.';

CREATE FUNCTION app.current_app_role() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('geniai.app_role', true), '') $$;
COMMENT ON FUNCTION app.current_app_role() IS 'App role of the current request: client, admin, super_admin or support; NULL when unset.';

GRANT EXECUTE ON FUNCTION app.current_tenant_id(), app.current_user_id(), app.current_app_role()
    TO geniai_anon, geniai_tenant, geniai_staff, geniai_etl;

-- Validators used by CHECK constraints.
-- Shaped like an IANA name (Area/Location, or UTC) and known to PostgreSQL. Asking the zone
-- directly costs microseconds; scanning pg_timezone_names would cost tens of milliseconds.
CREATE FUNCTION app.is_valid_timezone(tz text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
BEGIN
    IF tz IS NULL OR (tz !~ '^[A-Za-z]+(/[A-Za-z0-9_+-]+)+$' AND tz <> 'UTC') THEN
        RETURN false;
    END IF;
    PERFORM now() AT TIME ZONE tz;
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;
COMMENT ON FUNCTION app.is_valid_timezone(text) IS 'True for an IANA zone name PostgreSQL knows (America/Sao_Paulo, UTC); abbreviations and offsets are refused.';

CREATE FUNCTION app.is_valid_regex(re text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    PERFORM '' ~* re;
    RETURN true;
EXCEPTION WHEN invalid_regular_expression THEN
    RETURN false;
END
$$;
COMMENT ON FUNCTION app.is_valid_regex(text) IS 'True when re compiles as a PostgreSQL (ARE) regular expression.';
GRANT EXECUTE ON FUNCTION app.is_valid_timezone(text), app.is_valid_regex(text)
    TO geniai_tenant, geniai_staff, geniai_etl;

CREATE FUNCTION app.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.touch_updated_at() IS 'BEFORE UPDATE trigger: stamps updated_at.';

---- create above / drop below ----

DROP SCHEMA audit CASCADE;
DROP SCHEMA etl CASCADE;
DROP SCHEMA analytics CASCADE;
DROP SCHEMA app CASCADE;
ALTER DEFAULT PRIVILEGES FOR ROLE geniai_owner GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
-- Roles stay: they are cluster-wide and may serve other databases.
