-- Tenant isolation (docs/security.md): what every database role, in every request context, can see
-- and do on every table holding tenants' rows. Two tenants, A and B; the tests act from A's side.
--
-- Each statement below runs one check per table (the list in fixtures.psql, kept complete by the
-- first test), so a failure names the role, the context and the table. Results are row counts,
-- 'denied' (SQLSTATE 42501: no privilege, or a row-level security WITH CHECK) or 'refused'
-- (0 rows or denied: the database gave nothing away, whichever layer stopped it).
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.

BEGIN;
\ir fixtures.psql
SELECT plan(929);

-- The table list covers every table holding tenants' rows (the same rule as 010_catalog (a)):
-- a new tenant table must be added to fixtures.psql, with rows for A and B.
SELECT is_empty($$
    SELECT format('%I.%I', n.nspname, c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('app', 'analytics', 'etl', 'audit') AND c.relkind IN ('r', 'p')
       AND (c.oid = 'app.tenants'::regclass
            OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                                                    AND NOT a.attisdropped))
       AND NOT (n.nspname = 'etl' AND (c.relname LIKE 'stage\_%' OR c.relpersistence = 'u')) -- staging: 050
    EXCEPT
    SELECT t::text FROM tt
$$, 'every table holding tenants'' rows is in the isolation table list');
SELECT is_empty($$
    SELECT t::text || ': no fixture row for ' || k FROM tt, (VALUES ('a'), ('b')) v (k)
     WHERE pg_temp.truth(t, pg_temp.fx(k)) = '0'
$$, 'fixtures: every table has rows of both A and B');

-- geniai_tenant, app role client, tenant A ----------------------------------------------------
SELECT pg_temp.ctx('geniai_tenant', 'a', 'client', 'a_client');
SELECT is(pg_temp.seen(t, pg_temp.fx('b')), '0', format('client A: sees no row of B in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.seen(t, pg_temp.fx('a')),
          CASE WHEN t IN (SELECT o.t FROM admin_only o) OR t IN (SELECT h.t FROM tenant_hidden h) THEN '0'
               ELSE pg_temp.truth(t, pg_temp.fx('a')) END,
          format('client A: sees all of A''s rows in %s (admin_only: none; tenant_hidden: none)', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.ins(t, pg_temp.fx('b')), 'denied', format('client A: cannot insert a row of B into %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.refused(pg_temp.upd(t, pg_temp.fx('b'))), 'refused', format('client A: cannot update B''s rows in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.refused(pg_temp.del(t, pg_temp.fx('b'))), 'refused', format('client A: cannot delete B''s rows in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.move(t, pg_temp.fx('a'), pg_temp.fx('b')), 'denied', format('client A: cannot move A''s rows to B in %s', t))
  FROM tt ORDER BY ord;
-- A client reads its own tenant only: no write to users or settings, even its own tenant's.
SELECT is(pg_temp.ins('app.users', pg_temp.fx('a')), 'denied', 'client A: cannot create a user in A');
SELECT is(pg_temp.refused(pg_temp.upd('app.users', pg_temp.fx('a'))), 'refused', 'client A: cannot update A''s users');
SELECT is(pg_temp.refused(pg_temp.upd('app.tenant_settings', pg_temp.fx('a'))), 'refused', 'client A: cannot update A''s settings');

-- geniai_tenant, app role admin, tenant A -----------------------------------------------------
SELECT pg_temp.ctx('geniai_tenant', 'a', 'admin', 'a_admin');
SELECT is(pg_temp.seen(t, pg_temp.fx('b')), '0', format('admin A: sees no row of B in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.seen(t, pg_temp.fx('a')),
          CASE WHEN t IN (SELECT h.t FROM tenant_hidden h) THEN '0' ELSE pg_temp.truth(t, pg_temp.fx('a')) END,
          format('admin A: sees all of A''s rows in %s (tenant_hidden: none)', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.ins(t, pg_temp.fx('b')), 'denied', format('admin A: cannot insert a row of B into %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.refused(pg_temp.upd(t, pg_temp.fx('b'))), 'refused', format('admin A: cannot update B''s rows in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.refused(pg_temp.del(t, pg_temp.fx('b'))), 'refused', format('admin A: cannot delete B''s rows in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.move(t, pg_temp.fx('a'), pg_temp.fx('b')), 'denied', format('admin A: cannot move A''s rows to B in %s', t))
  FROM tt ORDER BY ord;
-- What an admin may do, so the refusals above are about the tenant, not the statement.
SELECT is(pg_temp.ins('app.users', pg_temp.fx('a')), '1', 'admin A: creates a user in A');
SELECT is(pg_temp.upd('app.users', pg_temp.fx('a')), pg_temp.truth('app.users', pg_temp.fx('a')), 'admin A: updates A''s users');
SELECT is(pg_temp.upd('app.tenant_settings', pg_temp.fx('a')), '1', 'admin A: updates A''s settings');
-- Refused twice over: users_check_role (23514) fires before the policy's role check (42501).
SELECT matches(pg_temp.try(format($$INSERT INTO app.users (tenant_id, email, password_hash, role)
                                    VALUES (%s, 'evil@pgtap.test', '$2a$10$%s', 'super_admin')$$,
                                  pg_temp.fx('a'), repeat('z', 53))),
               '^(denied|error 23514)', 'admin A: cannot create a super_admin');
SELECT matches(pg_temp.try(format($$UPDATE app.users SET role = 'support' WHERE id = %s$$, pg_temp.fx('a_client'))),
               '^(denied|error 23514)', 'admin A: cannot promote a user of A to staff');

-- No context: the role is set, the identity is not (a forgotten context) ------------------------
SELECT pg_temp.ctx('geniai_tenant', NULL, NULL, NULL);
SELECT is(pg_temp.seen(t, NULL), '0', format('tenant role without a tenant: sees no row at all in %s', t))
  FROM tt ORDER BY ord;
SELECT pg_temp.ctx('geniai_tenant', NULL, 'admin', NULL);
SELECT is(pg_temp.seen(t, NULL), '0', format('tenant admin without a tenant: sees no row at all in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.ins('app.users', pg_temp.fx('a')), 'denied', 'tenant admin without a tenant: cannot create a user');
SELECT pg_temp.ctx('geniai_etl', NULL, NULL, NULL, 'etl');
-- The loader reads the tenant list to schedule runs (tenants_etl_read); nothing else without a tenant.
SELECT is(pg_temp.refused(pg_temp.seen(t, NULL)), 'refused', format('etl without a tenant: sees no row in %s', t))
  FROM tt WHERE t <> 'app.tenants'::regclass ORDER BY ord;
SELECT is(pg_temp.ins('analytics.conversations', pg_temp.fx('a')), 'denied', 'etl without a tenant: cannot load a conversation');

-- geniai_anon: before login, no table at all --------------------------------------------------
SELECT pg_temp.ctx('geniai_anon', NULL, NULL, NULL);
SELECT is(pg_temp.seen(t, NULL), 'denied', format('anon: permission denied on %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.ins(t, pg_temp.fx('a')), 'denied', format('anon: cannot insert into %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.try('DELETE FROM public.sessions'), 'denied', 'anon: no access to public.sessions');

-- geniai_staff, super_admin: reads everything, writes the app tables ---------------------------
SELECT pg_temp.ctx('geniai_staff', 'platform', 'super_admin', 'staff_super');
SELECT is(pg_temp.seen(t, pg_temp.fx('a')) || ' / ' || pg_temp.seen(t, pg_temp.fx('b')),
          pg_temp.truth(t, pg_temp.fx('a')) || ' / ' || pg_temp.truth(t, pg_temp.fx('b')),
          format('super_admin: sees every row of A / B in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.ins('app.tenants', NULL), '1', 'super_admin: creates a tenant');
SELECT is(pg_temp.upd('app.tenants', pg_temp.fx('b')), '1', 'super_admin: updates tenant B');
SELECT is(pg_temp.ins('app.users', pg_temp.fx('b')), '1', 'super_admin: creates a user in B');
SELECT is(pg_temp.upd('app.users', pg_temp.fx('b')), pg_temp.truth('app.users', pg_temp.fx('b')), 'super_admin: updates B''s users');
SELECT is(pg_temp.try(format('INSERT INTO app.tenant_inboxes (tenant_id, inbox_id) VALUES (%s, 990102)', pg_temp.fx('b'))),
          '1', 'super_admin: maps an inbox to B');
SELECT is(pg_temp.try('DELETE FROM app.tenant_inboxes WHERE inbox_id = 990102'), '1', 'super_admin: unmaps an inbox');
SELECT is(pg_temp.upd('app.tenant_settings', pg_temp.fx('b')), '1', 'super_admin: updates B''s settings');
-- Analytics, ETL state and the audit trail are written by the ETL and the audit functions only.
SELECT is(pg_temp.ins(t, pg_temp.fx('b')), 'denied', format('super_admin: cannot insert into %s', t))
  FROM tt WHERE t::text NOT LIKE 'app.%' ORDER BY ord;
SELECT is(pg_temp.refused(pg_temp.upd(t, pg_temp.fx('b'))), 'refused', format('super_admin: cannot update %s', t))
  FROM tt WHERE t::text NOT LIKE 'app.%' ORDER BY ord;
SELECT is(pg_temp.refused(pg_temp.del(t, pg_temp.fx('b'))), 'refused', format('super_admin: cannot delete from %s', t))
  FROM tt WHERE t::text NOT LIKE 'app.%' ORDER BY ord;
SELECT is(pg_temp.move(t, pg_temp.fx('a'), pg_temp.fx('b')), 'denied', format('super_admin: cannot move rows between tenants in %s', t))
  FROM tt ORDER BY ord;

-- geniai_staff, support: reads everything, every write fails or changes nothing ------------------
SELECT pg_temp.ctx('geniai_staff', 'platform', 'support', 'staff_support');
SELECT is(pg_temp.seen(t, pg_temp.fx('a')) || ' / ' || pg_temp.seen(t, pg_temp.fx('b')),
          pg_temp.truth(t, pg_temp.fx('a')) || ' / ' || pg_temp.truth(t, pg_temp.fx('b')),
          format('support: sees every row of A / B in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.ins(t, pg_temp.fx('b')), 'denied', format('support: cannot insert into %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.refused(pg_temp.upd(t, pg_temp.fx('b'))), 'refused', format('support: cannot update %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.refused(pg_temp.del(t, pg_temp.fx('b'))), 'refused', format('support: cannot delete from %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.move(t, pg_temp.fx('a'), pg_temp.fx('b')), 'denied', format('support: cannot move rows between tenants in %s', t))
  FROM tt ORDER BY ord;

-- geniai_etl loading tenant A: writes A's analytics and ETL state, nothing else ------------------
SELECT pg_temp.ctx('geniai_etl', 'a', NULL, NULL, 'etl');
SELECT is(pg_temp.refused(pg_temp.seen(t, pg_temp.fx('b'))), 'refused', format('etl for A: sees no row of B in %s', t))
  FROM tt WHERE t <> 'app.tenants'::regclass ORDER BY ord;
SELECT is(pg_temp.ins(t, pg_temp.fx('b')), 'denied', format('etl for A: cannot insert a row of B into %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.refused(pg_temp.upd(t, pg_temp.fx('b'))), 'refused', format('etl for A: cannot update B''s rows in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.refused(pg_temp.del(t, pg_temp.fx('b'))), 'refused', format('etl for A: cannot delete B''s rows in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.move(t, pg_temp.fx('a'), pg_temp.fx('b')), 'denied', format('etl for A: cannot move A''s rows to B in %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.ins(t, pg_temp.fx('a')), '1', format('etl for A: loads a row of A into %s', t))
  FROM tt WHERE t IN ('analytics.conversations'::regclass, 'analytics.transcripts', 'analytics.daily_stats',
                      'analytics.daily_hist', 'analytics.tenant_daily_hist', 'analytics.daily_labels',
                      'analytics.tenant_daily_stats', 'analytics.tenant_daily_labels', 'analytics.inboxes', 'etl.runs') ORDER BY ord;
SELECT is(pg_temp.upd(t, pg_temp.fx('a')), pg_temp.truth(t, pg_temp.fx('a')), format('etl for A: updates A''s rows in %s', t))
  FROM tt WHERE t IN ('analytics.conversations'::regclass, 'analytics.transcripts', 'analytics.inboxes', 'etl.runs', 'etl.watermarks') ORDER BY ord;
SELECT is(pg_temp.try(format('DELETE FROM analytics.transcripts WHERE tenant_id = %s AND conversation_id > 1000', pg_temp.fx('a'))),
          '1', 'etl for A: deletes A''s loaded transcript');
SELECT is(pg_temp.ins(t, pg_temp.fx('a')), 'denied', format('etl for A: cannot write %s, even for A', t))
  FROM tt WHERE t IN ('app.tenants'::regclass, 'app.users', 'app.tenant_inboxes', 'app.tenant_settings', 'audit.events') ORDER BY ord;
SELECT is(pg_temp.upd(t, pg_temp.fx('a')), 'denied', format('etl for A: cannot update %s, even for A', t))
  FROM tt WHERE t IN ('app.tenants'::regclass, 'app.users', 'app.tenant_inboxes', 'app.tenant_settings', 'audit.events') ORDER BY ord;

-- geniai_authenticator before any role switch: only public.sessions ------------------------------
-- SET SESSION AUTHORIZATION (not SET ROLE) so that role switches are checked against the
-- authenticator's memberships, as on a real connection.
RESET ROLE;
SET LOCAL SESSION AUTHORIZATION geniai_authenticator;
SELECT is(current_user::text, 'geniai_authenticator', 'authenticator: connected as itself');
SELECT is(pg_temp.seen(t, NULL), 'denied', format('authenticator: permission denied on %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.ins(t, pg_temp.fx('a')), 'denied', format('authenticator: cannot insert into %s', t))
  FROM tt ORDER BY ord;
SELECT is(pg_temp.try($$INSERT INTO public.sessions (token, data, expiry) VALUES ('pgtap-token', '\x00', now() + interval '1 hour')$$),
          '1', 'authenticator: stores a session');
SELECT is((SELECT count(*) FROM public.sessions WHERE token = 'pgtap-token'), 1::bigint, 'authenticator: reads a session');
SELECT is(pg_temp.try($$UPDATE public.sessions SET expiry = now() + interval '2 hours' WHERE token = 'pgtap-token'$$),
          '1', 'authenticator: renews a session');
SELECT is(pg_temp.try($$DELETE FROM public.sessions WHERE token = 'pgtap-token'$$), '1', 'authenticator: deletes a session');
SELECT throws_ok($$SELECT set_config('role', 'geniai_owner', true)$$, '42501', NULL,
                 'authenticator: cannot switch to the owner');
SELECT throws_ok($$SELECT set_config('role', 'postgres', true)$$, '42501', NULL,
                 'authenticator: cannot switch to a superuser');
SELECT lives_ok($$SELECT set_config('role', 'geniai_tenant', true)$$, 'authenticator: switches to geniai_tenant');
SELECT is(current_user::text, 'geniai_tenant', 'authenticator: is geniai_tenant after the switch');
RESET ROLE;
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
