-- The audit trail (docs/security.md): append-only for every role, written only by audit.log() and
-- the change triggers, with the actor taken from the request context, password hashes redacted.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.

BEGIN;
\ir fixtures.psql
SELECT plan(56);

-- Events written after this point (the fixtures' are before it).
DO $$ BEGIN PERFORM set_config('pgtap.mark', (SELECT max(id) FROM audit.events)::text, true); END $$;
-- A superuser-owned view: reads every event whatever the current role.
CREATE TEMP VIEW ev AS SELECT * FROM audit.events WHERE id > current_setting('pgtap.mark')::bigint;
-- A fingerprint of A's and B's trails, to show the refused statements changed nothing (only
-- those: on a live database other sessions may append meanwhile).
CREATE TEMP VIEW trail AS
SELECT count(*) || ':' || md5(string_agg(e::text, ',' ORDER BY tenant_id, id)) AS fingerprint
  FROM audit.events e
 WHERE tenant_id IN (pg_temp.fx('a'), pg_temp.fx('b'));
CREATE TEMP TABLE trail_before AS SELECT fingerprint FROM trail;

-- Append-only: UPDATE, DELETE and TRUNCATE fail for every role ----------------------------------
SELECT pg_temp.ctx('geniai_tenant', 'a', 'admin', 'a_admin');
SELECT throws_ok('UPDATE audit.events SET action = ''x''', '42501', NULL, 'tenant admin: UPDATE audit.events is refused');
SELECT throws_ok('DELETE FROM audit.events', '42501', NULL, 'tenant admin: DELETE FROM audit.events is refused');
SELECT throws_ok('TRUNCATE audit.events', '42501', NULL, 'tenant admin: TRUNCATE audit.events is refused');
SELECT throws_ok('ALTER TABLE audit.events DISABLE TRIGGER events_append_only', '42501', NULL,
                 'tenant admin: cannot disable the append-only trigger');
SELECT pg_temp.ctx('geniai_staff', 'platform', 'super_admin', 'staff_super');
SELECT throws_ok('UPDATE audit.events SET action = ''x''', '42501', NULL, 'super_admin: UPDATE audit.events is refused');
SELECT throws_ok('DELETE FROM audit.events', '42501', NULL, 'super_admin: DELETE FROM audit.events is refused');
SELECT throws_ok('TRUNCATE audit.events', '42501', NULL, 'super_admin: TRUNCATE audit.events is refused');
SELECT throws_ok('ALTER TABLE audit.events DISABLE TRIGGER events_append_only', '42501', NULL,
                 'super_admin: cannot disable the append-only trigger');
SELECT pg_temp.ctx('geniai_etl', 'a', NULL, NULL, 'etl');
SELECT throws_ok('UPDATE audit.events SET action = ''x''', '42501', NULL, 'etl: UPDATE audit.events is refused');
SELECT throws_ok('DELETE FROM audit.events', '42501', NULL, 'etl: DELETE FROM audit.events is refused');
SELECT throws_ok('TRUNCATE audit.events', '42501', NULL, 'etl: TRUNCATE audit.events is refused');
-- The owner holds every privilege; RLS (no UPDATE or DELETE policy) leaves it no row to change,
-- and the trigger refuses TRUNCATE, which RLS does not cover.
SELECT pg_temp.ctx('geniai_owner', NULL, NULL, NULL);
SELECT is(pg_temp.try('UPDATE audit.events SET action = ''x'''), '0', 'owner: UPDATE audit.events changes no row');
SELECT is(pg_temp.try('DELETE FROM audit.events'), '0', 'owner: DELETE FROM audit.events changes no row');
SELECT throws_ok('TRUNCATE audit.events', '42501', 'audit.events is append-only', 'owner: TRUNCATE audit.events is refused by the trigger');
-- Even a role that bypasses RLS meets the trigger (the superuser running this file).
SELECT pg_temp.ctx('none', NULL, NULL, NULL);
SELECT throws_ok('UPDATE audit.events SET action = ''x''', '42501', 'audit.events is append-only',
                 'superuser: UPDATE audit.events is refused by the trigger');
SELECT throws_ok('DELETE FROM audit.events', '42501', 'audit.events is append-only',
                 'superuser: DELETE FROM audit.events is refused by the trigger');
SELECT throws_ok('TRUNCATE audit.events', '42501', 'audit.events is append-only',
                 'superuser: TRUNCATE audit.events is refused by the trigger');
SELECT is((SELECT fingerprint FROM trail), (SELECT fingerprint FROM trail_before),
          'the audit trail is unchanged after all those attempts');

-- No request role inserts directly ---------------------------------------------------------------
SELECT pg_temp.ctx('geniai_tenant', 'a', 'admin', 'a_admin');
SELECT is(pg_temp.ins('audit.events', pg_temp.fx('a')), 'denied', 'tenant admin: cannot INSERT into audit.events');
SELECT pg_temp.ctx('geniai_staff', 'platform', 'super_admin', 'staff_super');
SELECT is(pg_temp.ins('audit.events', pg_temp.fx('platform')), 'denied', 'super_admin: cannot INSERT into audit.events');
SELECT pg_temp.ctx('geniai_etl', 'a', NULL, NULL, 'etl');
SELECT is(pg_temp.ins('audit.events', pg_temp.fx('a')), 'denied', 'etl: cannot INSERT into audit.events');
SELECT pg_temp.ctx('geniai_anon', NULL, NULL, NULL);
SELECT is(pg_temp.try($$INSERT INTO audit.events (tenant_id, action) VALUES (1, 'pgtap.direct')$$), 'denied',
          'anon: cannot INSERT into audit.events');
SELECT throws_ok($$SELECT audit.log('login.failure', NULL, NULL, NULL, NULL)$$, '42501', NULL,
                 'anon: cannot call audit.log (login functions log for it)');

-- audit.log takes the actor from the context, never from its arguments ----------------------------
SELECT pg_temp.ctx('none', NULL, NULL, NULL);
SELECT is_empty($$
    SELECT a FROM pg_proc p, unnest(p.proargnames) a
     WHERE p.oid = 'audit.log(text, text, text, jsonb, jsonb, bigint)'::regprocedure
       AND a ~* '(actor|user|agent|^p_role$|^p_ip$|^p_ip_address$)'
$$, 'audit.log has no argument for the actor, ip or user agent');
SELECT pg_temp.ctx('geniai_tenant', 'a', 'admin', 'a_admin');
DO $$ BEGIN PERFORM set_config('geniai.ip', '203.0.113.9', true),
                    set_config('geniai.user_agent', 'pgtap-agent/1.0', true); END $$;
SELECT lives_ok($$SELECT set_config('pgtap.event', audit.log('pgtap.check', 'widget', '42',
                         '{"password_hash": "$2a$10$secret", "actor_user_id": 999}',
                         '{"actor_role": "super_admin"}')::text, true)$$,
                'tenant admin: audit.log writes an event');
SELECT pg_temp.ctx('none', NULL, NULL, NULL);
SELECT is((SELECT jsonb_build_object('tenant', tenant_id, 'user', actor_user_id, 'role', actor_role,
                                     'ip', host(ip), 'agent', user_agent, 'action', action,
                                     'old', old_values, 'new', new_values)
             FROM ev WHERE id = current_setting('pgtap.event')::bigint),
          jsonb_build_object('tenant', pg_temp.fx('a'), 'user', pg_temp.fx('a_admin'), 'role', 'admin',
                             'ip', '203.0.113.9', 'agent', 'pgtap-agent/1.0', 'action', 'pgtap.check',
                             'old', '{"password_hash": "[redacted]", "actor_user_id": 999}'::jsonb,
                             'new', '{"actor_role": "super_admin"}'::jsonb),
          'audit.log stamps tenant, user, role, ip and user agent from the context and redacts the hash');
SELECT pg_temp.ctx('geniai_etl', 'a', NULL, NULL);
SELECT lives_ok($$SELECT set_config('pgtap.event', audit.log('etl.test', NULL, NULL, NULL, NULL)::text, true)$$,
                'etl: audit.log writes an event');
SELECT pg_temp.ctx('none', NULL, NULL, NULL);
SELECT is((SELECT jsonb_build_object('tenant', tenant_id, 'user', actor_user_id, 'role', actor_role)
             FROM ev WHERE id = current_setting('pgtap.event')::bigint),
          jsonb_build_object('tenant', pg_temp.fx('a'), 'user', NULL, 'role', 'etl'),
          'audit.log labels the loader''s events etl, with no user');

-- Whose events may be logged -----------------------------------------------------------------------
SELECT pg_temp.ctx('geniai_tenant', 'a', 'admin', 'a_admin');
SELECT lives_ok($$SELECT audit.log('pgtap.own', NULL, NULL, NULL, NULL, (SELECT app.current_tenant_id()))$$,
                'tenant admin: logs an event of its own tenant');
SELECT throws_ok(format($$SELECT audit.log('pgtap.other', NULL, NULL, NULL, NULL, %s)$$, pg_temp.fx('b')),
                 '42501', 'cannot write an audit event for another tenant',
                 'tenant admin: cannot log an event for another tenant');
SELECT pg_temp.ctx('geniai_tenant', 'a', 'client', 'a_client');
SELECT throws_ok(format($$SELECT audit.log('pgtap.other', NULL, NULL, NULL, NULL, %s)$$, pg_temp.fx('b')),
                 '42501', 'cannot write an audit event for another tenant',
                 'tenant client: cannot log an event for another tenant');
SELECT pg_temp.ctx('geniai_etl', 'a', NULL, NULL, 'etl');
SELECT throws_ok(format($$SELECT audit.log('pgtap.other', NULL, NULL, NULL, NULL, %s)$$, pg_temp.fx('b')),
                 '42501', 'cannot write an audit event for another tenant',
                 'etl for A: cannot log an event for tenant B');
SELECT pg_temp.ctx('geniai_tenant', NULL, 'admin', 'a_admin');
SELECT throws_ok(format($$SELECT audit.log('pgtap.other', NULL, NULL, NULL, NULL, %s)$$, pg_temp.fx('b')),
                 '42501', NULL,
                 'tenant admin without a context tenant: cannot log an event for tenant B');
SELECT pg_temp.ctx('geniai_staff', 'platform', 'support', 'staff_support');
SELECT lives_ok(format($$SELECT audit.log('tenant.view_as', 'tenants', NULL, NULL, NULL, %s)$$, pg_temp.fx('b')),
                'support: logs an event for any tenant (viewing its dashboard)');

-- The change triggers record every write to the app tables ----------------------------------------
SELECT pg_temp.ctx('geniai_staff', 'platform', 'super_admin', 'staff_super');
SELECT is(pg_temp.try($$INSERT INTO app.tenants (slug, name) VALUES ('pgtap-c', 'Tenant C')$$), '1',
          'super_admin: creates tenant C');
INSERT INTO fx SELECT 'c', id FROM app.tenants WHERE slug = 'pgtap-c';
SELECT is(pg_temp.try($$UPDATE app.tenants SET name = 'Tenant C2' WHERE slug = 'pgtap-c'$$), '1',
          'super_admin: renames tenant C');
SELECT is(pg_temp.try(format($$INSERT INTO app.users (tenant_id, email, password_hash, full_name, role)
                               VALUES (%s, 'c-admin@pgtap.test', '$2a$10$%s', 'C Admin', 'admin')$$,
                             pg_temp.fx('c'), repeat('c', 53))), '1',
          'super_admin: creates a user in C');
SELECT is(pg_temp.try($$UPDATE app.users SET full_name = 'C Boss' WHERE email = 'c-admin@pgtap.test'$$), '1',
          'super_admin: renames the user');
SELECT is(pg_temp.try(format($$UPDATE app.users SET password_hash = '$2a$10$%s' WHERE email = 'c-admin@pgtap.test'$$,
                             repeat('d', 53))), '1',
          'super_admin: resets the user''s password');
SELECT is(pg_temp.try(format('INSERT INTO app.tenant_inboxes (tenant_id, inbox_id) VALUES (%s, 990003)', pg_temp.fx('c'))),
          '1', 'super_admin: maps an inbox to C');
SELECT is(pg_temp.try('DELETE FROM app.tenant_inboxes WHERE inbox_id = 990003'), '1', 'super_admin: unmaps it');
SELECT is(pg_temp.try(format($$UPDATE app.tenant_settings SET primary_color = '#123456' WHERE tenant_id = %s$$,
                             pg_temp.fx('c'))), '1',
          'super_admin: changes C''s branding');
SELECT pg_temp.ctx('none', NULL, NULL, NULL);

CREATE TEMP VIEW ev_c AS
SELECT action, entity_id, actor_user_id, actor_role, old_values, new_values
  FROM ev WHERE tenant_id = pg_temp.fx('c') ORDER BY id;
SELECT is(ARRAY(SELECT action FROM ev_c),
          ARRAY['tenants.insert', 'tenant_settings.insert', 'tenants.update', 'users.insert', 'users.update',
                'users.update', 'tenant_inboxes.insert', 'tenant_inboxes.delete', 'tenant_settings.update'],
          'every change to C''s app rows is recorded, in order');
SELECT is_empty($$
    SELECT action FROM ev_c
     WHERE actor_user_id IS DISTINCT FROM pg_temp.fx('staff_super') OR actor_role IS DISTINCT FROM 'super_admin'
$$, 'the trigger events name the staff user and role from the context');
SELECT is((SELECT jsonb_build_object('id', entity_id, 'old', old_values, 'slug', new_values->>'slug')
             FROM ev_c WHERE action = 'tenants.insert'),
          jsonb_build_object('id', pg_temp.fx('c')::text, 'old', NULL, 'slug', 'pgtap-c'),
          'tenants.insert: no old values, the new row');
SELECT is((SELECT array[old_values->>'name', new_values->>'name'] FROM ev_c WHERE action = 'tenants.update'),
          array['Tenant C', 'Tenant C2'], 'tenants.update: old and new values');
SELECT is((SELECT array[old_values->>'password_hash', new_values->>'password_hash', new_values->>'email']
             FROM ev_c WHERE action = 'users.insert'),
          array[NULL, '[redacted]', 'c-admin@pgtap.test'], 'users.insert: the new row, password hash redacted');
SELECT is(ARRAY(SELECT array_to_string(array[old_values->>'full_name', new_values->>'full_name',
                                            old_values->>'password_hash', new_values->>'password_hash'], ' | ')
                  FROM ev_c WHERE action = 'users.update'),
          ARRAY['C Admin | C Boss | [redacted] | [redacted]', 'C Boss | C Boss | [redacted] | [redacted]'],
          'users.update: old and new values, both hashes redacted (a password change is still recorded)');
SELECT is((SELECT array[old_values->>'inbox_id', new_values->>'inbox_id']
             FROM ev_c WHERE action = 'tenant_inboxes.delete'),
          array['990003', NULL], 'tenant_inboxes.delete: the old row, no new values');
SELECT is((SELECT array[old_values->>'primary_color', new_values->>'primary_color']
             FROM ev_c WHERE action = 'tenant_settings.update'),
          array['#0F766E', '#123456'], 'tenant_settings.update: old and new values');

-- Deletes (no request role may delete tenants or users; the owner's cascade is recorded too).
DELETE FROM app.tenants WHERE id = pg_temp.fx('c');
SELECT is(ARRAY(SELECT action || ' ' || coalesce(old_values->>'password_hash', '-') || ' ' || (new_values IS NULL)::text
                  FROM ev_c WHERE action LIKE '%.delete' AND action <> 'tenant_inboxes.delete' ORDER BY 1),
          ARRAY['tenant_settings.delete - true', 'tenants.delete - true', 'users.delete [redacted] true'],
          'deleting tenant C records the cascade: users (hash redacted), settings, tenant; old values only');
SELECT is_empty($$
    SELECT id, action FROM ev
     WHERE strpos(coalesce(old_values::text, '') || coalesce(new_values::text, ''), '$2a$') > 0
$$, 'no recorded event contains a bcrypt hash');

-- Sign-in bookkeeping alone is not a row change (the login functions log login.* events instead).
-- As the owner, which is who the SECURITY DEFINER login functions run as.
SELECT pg_temp.ctx('geniai_owner', NULL, NULL, NULL);
SELECT is(pg_temp.try(format($$UPDATE app.users SET failed_attempts = failed_attempts + 1, last_login_at = now(),
                                                  last_login_ip = '198.51.100.1', locked_until = NULL
                               WHERE id = %s$$, pg_temp.fx('a_client'))), '1',
          'owner (as the login functions): records a sign-in on a user');
SELECT pg_temp.ctx('none', NULL, NULL, NULL);
SELECT is((SELECT count(*) FROM ev WHERE entity = 'users' AND entity_id = pg_temp.fx('a_client')::text), 0::bigint,
          'an update of login bookkeeping columns only records nothing');
SELECT pg_temp.ctx('geniai_owner', NULL, NULL, NULL);
SELECT is(pg_temp.try(format($$UPDATE app.users SET failed_attempts = 0, is_active = false WHERE id = %s$$,
                             pg_temp.fx('a_client'))), '1',
          'owner: resets the counter and deactivates the user in one statement');
SELECT pg_temp.ctx('none', NULL, NULL, NULL);
SELECT is(ARRAY(SELECT concat_ws(' -> ', old_values->>'is_active', new_values->>'is_active') FROM ev
                  WHERE entity = 'users' AND entity_id = pg_temp.fx('a_client')::text ORDER BY id),
          ARRAY['true -> false'], 'an update that also touches another column is recorded (once)');

SELECT * FROM finish();
ROLLBACK;
