-- The request-context helpers every policy reads (docs/security.md): app.current_tenant_id(),
-- app.current_user_id(), app.current_app_role(). STABLE, NULL when unset or empty, and the
-- context set with set_config(..., true) lasts exactly one transaction.
--
-- A test cannot commit from inside its own transaction, so the "one transaction" part is shown
-- with two transactions that run before the test transaction, in the same session: the first
-- observes a pristine session, the second sets the context transaction-locally (as
-- queries/context.sql does) and records what it saw in session-level pgtap.* settings. The test
-- transaction then checks that the context did not outlive its transaction.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser.

-- Transaction 1: nothing set yet in this session.
DO $$
BEGIN
    PERFORM set_config('pgtap.unset', jsonb_build_object(
        'tenant', app.current_tenant_id(), 'user', app.current_user_id(), 'role', app.current_app_role())::text, false);
END
$$;

-- Transaction 2: the context of a tenant admin's request.
DO $$
BEGIN
    PERFORM set_config('role', 'geniai_tenant', true),
            set_config('geniai.tenant_id', '42', true),
            set_config('geniai.user_id', '7', true),
            set_config('geniai.app_role', 'admin', true);
    PERFORM set_config('pgtap.during', jsonb_build_object(
        'tenant', app.current_tenant_id(), 'user', app.current_user_id(), 'role', app.current_app_role(),
        'db_role', current_user)::text, false);
END
$$;

-- Transaction 3: the tests.
BEGIN;
SELECT plan(28);

-- Shape: STABLE (evaluated once per statement, so they can be used in index conditions), SQL,
-- SECURITY INVOKER, the documented return types.
SELECT volatility_is('app', 'current_tenant_id', ARRAY[]::name[], 'stable', 'app.current_tenant_id() is STABLE');
SELECT volatility_is('app', 'current_user_id', ARRAY[]::name[], 'stable', 'app.current_user_id() is STABLE');
SELECT volatility_is('app', 'current_app_role', ARRAY[]::name[], 'stable', 'app.current_app_role() is STABLE');
SELECT function_returns('app', 'current_tenant_id', ARRAY[]::name[], 'bigint', 'app.current_tenant_id() returns bigint');
SELECT function_returns('app', 'current_user_id', ARRAY[]::name[], 'bigint', 'app.current_user_id() returns bigint');
SELECT function_returns('app', 'current_app_role', ARRAY[]::name[], 'text', 'app.current_app_role() returns text');
SELECT isnt_definer('app', 'current_tenant_id', ARRAY[]::name[], 'app.current_tenant_id() is SECURITY INVOKER');
SELECT isnt_definer('app', 'current_user_id', ARRAY[]::name[], 'app.current_user_id() is SECURITY INVOKER');
SELECT isnt_definer('app', 'current_app_role', ARRAY[]::name[], 'app.current_app_role() is SECURITY INVOKER');
SELECT is_empty($$
    SELECT r || ' cannot execute ' || f
      FROM unnest(ARRAY['geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl']) r,
           unnest(ARRAY['app.current_tenant_id()', 'app.current_user_id()', 'app.current_app_role()']) f
     WHERE NOT has_function_privilege(r, f, 'EXECUTE')
$$, 'every request role can call the helpers');

-- Unset: NULL.
SELECT is(current_setting('pgtap.unset')::jsonb, '{"tenant": null, "user": null, "role": null}'::jsonb,
          'in a session where the context was never set, every helper returns NULL');

-- Set transaction-locally: visible inside that transaction, gone after it.
SELECT is(current_setting('pgtap.during')::jsonb,
          '{"tenant": 42, "user": 7, "role": "admin", "db_role": "geniai_tenant"}'::jsonb,
          'inside the transaction that set it, the context is what was set');
SELECT is(app.current_tenant_id(), NULL, 'after that transaction, current_tenant_id() is NULL again');
SELECT is(app.current_user_id(), NULL, 'after that transaction, current_user_id() is NULL again');
SELECT is(app.current_app_role(), NULL, 'after that transaction, current_app_role() is NULL again');
SELECT is(current_user::text, session_user::text, 'after that transaction, the role switch is gone too');
-- The settings now exist in the session but hold '' (their reset value): empty must read as NULL.
SELECT is(current_setting('geniai.tenant_id', true), '', 'the raw setting is left empty, not 42');

-- Set: the typed value; a later set_config in the same transaction replaces it.
DO $$ BEGIN PERFORM set_config('geniai.tenant_id', '42', true), set_config('geniai.user_id', '7', true),
                    set_config('geniai.app_role', 'client', true); END $$;
SELECT is(app.current_tenant_id(), 42::bigint, 'current_tenant_id() returns the tenant set');
SELECT is(app.current_user_id(), 7::bigint, 'current_user_id() returns the user set');
SELECT is(app.current_app_role(), 'client', 'current_app_role() returns the app role set');
DO $$ BEGIN PERFORM set_config('geniai.tenant_id', '43', true); END $$;
SELECT is(app.current_tenant_id(), 43::bigint, 'a new set_config replaces the tenant');

-- Emptied: NULL (a context written with an empty value is no context).
DO $$ BEGIN PERFORM set_config('geniai.tenant_id', '', true), set_config('geniai.user_id', '', true),
                    set_config('geniai.app_role', '', true); END $$;
SELECT is(app.current_tenant_id(), NULL, 'an empty tenant_id reads as NULL');
SELECT is(app.current_user_id(), NULL, 'an empty user_id reads as NULL');
SELECT is(app.current_app_role(), NULL, 'an empty app_role reads as NULL');

-- A malformed tenant id is an error, never a NULL or a partial match.
DO $$ BEGIN PERFORM set_config('geniai.tenant_id', '42 OR true', true); END $$;
SELECT throws_ok('SELECT app.current_tenant_id()', '22P02', NULL, 'a malformed tenant id raises invalid_text_representation');
DO $$ BEGIN PERFORM set_config('geniai.tenant_id', '', true); END $$;

-- Policies call the helpers directly, never through a scalar subquery: Citus refuses a policy with a
-- subquery on a distributed table, and the same migrations serve both. The helpers are STABLE SQL
-- functions the planner inlines, so a policy's condition is evaluated like a parameter (ADR 001).
SELECT is_empty($$
    SELECT format('policy %I on %s reads the context through a subquery', polname, polrelid::regclass)
      FROM pg_policy
     WHERE coalesce(pg_get_expr(polqual, polrelid), '') || ' ' || coalesce(pg_get_expr(polwithcheck, polrelid), '')
           ~ 'SELECT app\.current_'
$$, 'no policy wraps app.current_*() in (SELECT ...)');
SELECT isnt_empty($$SELECT FROM pg_policy WHERE pg_get_expr(polqual, polrelid) LIKE '%app.current_tenant_id()%'$$,
                  'control: the policies do read the context through the helpers');

-- The helpers are PL/pgSQL: the planner would inline SQL ones, re-parsing their body for every
-- statement it plans, which was most of the policies' cost on the dashboard (ADR 001).
SELECT is_empty($$
    SELECT format('%s is %s', p.oid::regprocedure, l.lanname)
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
     WHERE p.oid IN ('app.current_tenant_id()'::regprocedure, 'app.current_user_id()'::regprocedure,
                     'app.current_app_role()'::regprocedure)
       AND l.lanname <> 'plpgsql'
$$, 'the context helpers are PL/pgSQL (not inlined)');

SELECT * FROM finish();
ROLLBACK;
