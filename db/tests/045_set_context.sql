-- app.set_context, the first statement of every transaction (queries/context.sql): the only place
-- SET LOCAL literals are produced, but for etl.use_tenant, which only switches the tenant of a
-- loader's transaction during a pass over many tenants (checked at the end). Roles and app roles are checked against their enumerations,
-- ids are bigint, free text is quoted by PostgreSQL, everything is transaction-local, and on
-- Citus the settings are replayed on the workers (citus.propagate_set_commands).
--
-- As in 040_context_helpers.sql, the "transaction-local" part uses a transaction that runs before
-- the test transaction and records what it saw in a session-level pgtap.* setting.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser.

DO $$
BEGIN
    PERFORM app.set_context('geniai_tenant', 42, 7, 'admin', 'cli', '203.0.113.9', 'agent/1.0');
    PERFORM set_config('pgtap.set_context', jsonb_build_object(
        'tenant', app.current_tenant_id(), 'user', app.current_user_id(), 'role', app.current_app_role(),
        'db_role', current_user, 'actor', current_setting('geniai.actor'), 'ip', current_setting('geniai.ip'),
        'ua', current_setting('geniai.user_agent'))::text, false);
END
$$;

BEGIN;
SELECT plan(36);

SELECT isnt_definer('app', 'set_context', ARRAY['text', 'bigint', 'bigint', 'text', 'text', 'text', 'text'],
                    'app.set_context is SECURITY INVOKER (it switches the caller''s own role)');
SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'app.set_context(text, bigint, bigint, text, text, text, text)'::regprocedure),
          NULL, 'app.set_context has no SET clause (one would undo its SET LOCALs at return)');
SELECT is_empty($$
    SELECT r FROM unnest(ARRAY['geniai_authenticator', 'geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl']) r
     WHERE NOT has_function_privilege(r, 'app.set_context(text, bigint, bigint, text, text, text, text)', 'EXECUTE')
$$, 'the authenticator and every request role may call it');
SELECT ok(NOT has_function_privilege('public', 'app.set_context(text, bigint, bigint, text, text, text, text)', 'EXECUTE'),
          'PUBLIC may not');

-- Transaction-local.
SELECT is(current_setting('pgtap.set_context')::jsonb,
          '{"tenant": 42, "user": 7, "role": "admin", "db_role": "geniai_tenant", "actor": "cli",
            "ip": "203.0.113.9", "ua": "agent/1.0"}'::jsonb,
          'inside its transaction every part of the context is what was passed');
SELECT is(app.current_tenant_id(), NULL, 'after that transaction the tenant is gone');
SELECT is(current_user::text, session_user::text, 'after that transaction the role switch is gone');
SELECT is(current_setting('geniai.user_agent', true), '', 'after that transaction the user agent is gone');

-- Values.
SELECT lives_ok($$SELECT app.set_context(NULL, 5, NULL, 'client', NULL, NULL, NULL)$$, 'a NULL role keeps the current role');
SELECT is(current_user::text, session_user::text, '... and the role is unchanged');
SELECT is(app.current_tenant_id(), 5::bigint, 'the tenant is set');
SELECT is(app.current_user_id(), NULL, 'a NULL user reads as NULL');
SELECT lives_ok($$SELECT app.set_context(NULL, 0, 0, NULL, NULL, NULL, NULL)$$, 'zero ids are accepted');
SELECT is(app.current_tenant_id(), NULL, '... and read as unset (a later call replaces an earlier one)');
SELECT is(app.current_app_role(), NULL, 'a NULL app role reads as NULL');
SELECT is(current_setting('citus.propagate_set_commands'), 'local',
          'SET LOCAL commands are propagated to Citus workers (a placeholder without Citus)');

-- Free text is a literal, whatever it contains.
SELECT lives_ok($$SELECT app.set_context(NULL, 1, 2, 'client', E'cli\\x', '::1',
                   E'Mozilla/5.0 (it''s; "quoted") \\ back\nslash''; RESET ROLE; SET geniai.tenant_id = ''9''; --')$$,
                'a user agent with quotes, backslashes, a newline and SQL in it is accepted');
SELECT is(current_setting('geniai.user_agent'),
          E'Mozilla/5.0 (it''s; "quoted") \\ back\nslash''; RESET ROLE; SET geniai.tenant_id = ''9''; --',
          '... and stored verbatim');
SELECT is(app.current_tenant_id(), 1::bigint, '... without touching the tenant');
SELECT is(current_setting('geniai.actor'), E'cli\\x', 'the actor is stored verbatim');
SELECT is(current_setting('geniai.ip'), '::1', 'the ip is stored verbatim');

-- Enumerations.
SELECT throws_ok($$SELECT app.set_context('geniai_owner', NULL, NULL, NULL, NULL, NULL, NULL)$$, '22023', NULL,
                 'the owner is not a request role');
SELECT throws_ok($$SELECT app.set_context('postgres', NULL, NULL, NULL, NULL, NULL, NULL)$$, '22023', NULL,
                 'a superuser is not a request role');
SELECT throws_ok($$SELECT app.set_context('geniai_tenant; RESET ROLE', NULL, NULL, NULL, NULL, NULL, NULL)$$, '22023', NULL,
                 'a role name with SQL in it is refused');
SELECT throws_ok($$SELECT app.set_context('geniai_tenant', 1, 1, 'owner', NULL, NULL, NULL)$$, '22023', NULL,
                 'an unknown app role is refused');
SELECT throws_ok($$SELECT app.set_context('geniai_tenant', -1, NULL, 'client', NULL, NULL, NULL)$$, '22023', NULL,
                 'a negative tenant id is refused');
SELECT throws_ok($$SELECT app.set_context('geniai_tenant', 1, '1 OR true', 'client', NULL, NULL, NULL)$$, '22P02', NULL,
                 'an id that is not an integer never reaches the function');

-- A role switch is checked like SET ROLE: by membership.
SET LOCAL SESSION AUTHORIZATION geniai_authenticator;
SELECT lives_ok($$SELECT app.set_context('geniai_staff', NULL, NULL, 'support', NULL, NULL, NULL)$$,
                'the authenticator switches to a role it is a member of');
SELECT is(current_user::text, 'geniai_staff', '... and is that role now');
RESET SESSION AUTHORIZATION;

-- etl.use_tenant: the tenant only, transaction-local, for the loader only.
SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'etl.use_tenant(bigint)'::regprocedure),
          NULL, 'etl.use_tenant has no SET clause (saving and restoring one costs more than the switch)');
SELECT is_empty($$
    SELECT r FROM unnest(ARRAY['public', 'geniai_anon', 'geniai_tenant', 'geniai_staff']) r
     WHERE has_function_privilege(r, 'etl.use_tenant(bigint)', 'EXECUTE')
$$, 'only the loader may call etl.use_tenant');
SET LOCAL SESSION AUTHORIZATION geniai_authenticator;
SELECT app.set_context('geniai_etl', 5, NULL, '', 'etl', '', 'agent/2.0');
SELECT lives_ok($$SELECT etl.use_tenant(7)$$, 'the loader switches its tenant');
SELECT is(app.current_tenant_id(), 7::bigint, '... to the one asked for');
SELECT is(current_user || ' ' || current_setting('geniai.actor') || ' ' || current_setting('geniai.user_agent'),
          'geniai_etl etl agent/2.0', '... keeping its role and the rest of its identity');
SELECT etl.use_tenant(0);
SELECT is(app.current_tenant_id(), NULL, 'tenant 0 is no tenant');
SELECT throws_ok($$SELECT etl.use_tenant(-1)$$, '22023', NULL, 'a negative tenant id is refused');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
