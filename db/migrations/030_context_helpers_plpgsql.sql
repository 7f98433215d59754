-- The request-context helpers in PL/pgSQL (docs/adr/001-rls-with-transaction-local-context.md).
-- As SQL functions the planner inlined them, and inlining re-parses and re-analyses a function's
-- body every time a statement is planned, once per policy the statement meets: with every
-- dashboard statement planned per call (plan_cache_mode), that was most of what row-level
-- security cost a small tenant's dashboard. A PL/pgSQL function is called, not inlined; the
-- policies' `(SELECT app.current_tenant_id())` still runs once per statement. Same names,
-- signatures, volatility, results and grants.

CREATE OR REPLACE FUNCTION app.current_tenant_id() RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$ BEGIN RETURN nullif(current_setting('geniai.tenant_id', true), '')::bigint; END $$;

CREATE OR REPLACE FUNCTION app.current_user_id() RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$ BEGIN RETURN nullif(current_setting('geniai.user_id', true), '')::bigint; END $$;

CREATE OR REPLACE FUNCTION app.current_app_role() RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$ BEGIN RETURN nullif(current_setting('geniai.app_role', true), ''); END $$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION app.current_tenant_id() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('geniai.tenant_id', true), '')::bigint $$;

CREATE OR REPLACE FUNCTION app.current_user_id() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('geniai.user_id', true), '')::bigint $$;

CREATE OR REPLACE FUNCTION app.current_app_role() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('geniai.app_role', true), '') $$;
