-- The staff panel's SQL: unchanged sync checks folded into one row per quiet stretch, audit
-- events read as kinds and changes a person cares about, and each user's own reading zone.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.
-- citus: it writes etl.runs as the superuser and then as geniai_etl in one transaction, which
-- Citus refuses on a shard; on the cluster the ETL's Go tests fold unchanged runs instead.

BEGIN;
\ir fixtures.psql
SELECT plan(30);

-- Folded runs ------------------------------------------------------------------------------------
INSERT INTO etl.watermarks (tenant_id) VALUES (pg_temp.fx('a')), (pg_temp.fx('b')) ON CONFLICT DO NOTHING;
WITH x AS (INSERT INTO etl.runs (tenant_id) VALUES (pg_temp.fx('a')) RETURNING id) INSERT INTO fx SELECT 'r1', id FROM x;
SELECT pg_temp.ctx('geniai_etl', 'a', NULL, NULL, 'etl');
SELECT is(etl.finish_unchanged_run(pg_temp.fx('r1'), now()), pg_temp.fx('r1'),
          'the first unchanged check is a row of its own');
WITH x AS (INSERT INTO etl.runs (tenant_id) VALUES (pg_temp.fx('a')) RETURNING id) INSERT INTO fx SELECT 'r2', id FROM x;
SELECT is(etl.finish_unchanged_run(pg_temp.fx('r2'), now()), pg_temp.fx('r1'), 'the next one folds into it');
SELECT is((SELECT checks FROM etl.runs WHERE id = pg_temp.fx('r1')), 2, 'counted: 2 checks');
SELECT is((SELECT count(*) FROM etl.runs WHERE id = pg_temp.fx('r2'))::int, 0, 'the folded run''s own row is gone');
SELECT is((SELECT last_run_id FROM etl.watermarks WHERE tenant_id = pg_temp.fx('a')), pg_temp.fx('r1'),
          'the watermark names the row that stands for the check');
SELECT is(etl.finish_unchanged_run(pg_temp.fx('r1'), now()), NULL::bigint,
          'a run that is not running is not completed again');
-- Another tenant's check never folds into A's row, and never reaches it.
SELECT pg_temp.ctx('geniai_etl', 'b', NULL, NULL, 'etl');
WITH x AS (INSERT INTO etl.runs (tenant_id) VALUES (pg_temp.fx('b')) RETURNING id) INSERT INTO fx SELECT 'rb', id FROM x;
SELECT is(etl.finish_unchanged_run(pg_temp.fx('rb'), now()), pg_temp.fx('rb'),
          'tenant B''s check is a row of its own, not folded into tenant A''s');
RESET ROLE;
WITH x AS (INSERT INTO etl.runs (tenant_id) VALUES (pg_temp.fx('a')) RETURNING id) INSERT INTO fx SELECT 'r3', id FROM x;
SELECT pg_temp.ctx('geniai_etl', 'b', NULL, NULL, 'etl');
SELECT is(etl.finish_unchanged_run(pg_temp.fx('r3'), now()), NULL::bigint, 'tenant B cannot complete tenant A''s run');
SELECT pg_temp.ctx('geniai_staff', 'platform', 'super_admin', 'staff_super');
SELECT throws_ok(format('DELETE FROM etl.runs WHERE id = %s', pg_temp.fx('r1')), '42501', NULL,
                 'staff cannot delete runs');
RESET ROLE;
SELECT is((SELECT checks FROM etl.runs WHERE id = pg_temp.fx('r1')), 2, 'tenant A''s row is as it was');
SELECT is((SELECT status FROM etl.runs WHERE id = pg_temp.fx('r3')), 'running', 'and its running run still runs');

-- Audit kinds ------------------------------------------------------------------------------------
SELECT is(audit.event_kind('tenants.update', '{"status":"active","name":"X"}', '{"status":"suspended","name":"X"}', 1, '5'),
          'tenant.suspended', 'a status change to suspended is a suspension');
SELECT is(audit.event_kind('tenants.update', '{"status":"suspended"}', '{"status":"active"}', 1, '5'),
          'tenant.reactivated', 'back to active is a reactivation');
SELECT is(audit.event_kind('tenants.update', '{"status":"active","timezone":"UTC"}', '{"status":"active","timezone":"America/Manaus"}', 1, '5'),
          'tenant.timezone', 'only the timezone changed');
SELECT is(audit.event_kind('tenants.update', '{"name":"A","plan":"basic"}', '{"name":"B","plan":"basic"}', 1, '5'),
          'tenant.updated', 'any other edit');
SELECT is(audit.event_kind('password_reset.send', NULL, '{"email":"a@a.test"}', 1, '7'),
          'user.reset_link_sent', 'a reset link sent for someone has its own sentence');
SELECT is(audit.event_kind('users.update', '{"is_active":true,"role":"admin"}', '{"is_active":false,"role":"admin"}', 1, '7'),
          'user.deactivated', 'deactivation');
SELECT is(audit.event_kind('users.update', '{"role":"client","is_active":true}', '{"role":"admin","is_active":true}', 1, '7'),
          'user.role_changed', 'role change');
SELECT is(audit.event_kind('users.update', '{"auth_version":1,"password_hash":"[redacted]"}', '{"auth_version":2,"password_hash":"[redacted]"}', 1, '7'),
          'user.password_reset', 'someone else''s new password is a reset');
SELECT is(audit.event_kind('users.update', '{"auth_version":1,"password_hash":"[redacted]"}', '{"auth_version":2,"password_hash":"[redacted]"}', 7, '7'),
          'user.password_changed', 'one''s own is a change');
SELECT is(audit.event_kind('tenant_settings.update', '{"lead_labels":[],"primary_color":"#000000"}', '{"lead_labels":["lead"],"primary_color":"#000000"}', 1, '5'),
          'settings.funnel', 'a funnel rule change');
SELECT is(audit.event_kind('tenant_settings.update', '{"lead_labels":[],"primary_color":"#000000"}', '{"lead_labels":[],"primary_color":"#111111"}', 1, '5'),
          'settings.branding', 'a branding change');
SELECT is(audit.event_kind('tenant.view_as', NULL, NULL, 1, 'dashboard'), 'view.as_client', 'ver como cliente');
SELECT is(audit.event_kind('something.new', NULL, NULL, 1, NULL), 'other', 'an action without a sentence');

-- Changes a person cares about ---------------------------------------------------------------------
SELECT is(audit.event_changes('{"id":3,"name":"A","status":"active","updated_at":"x","auth_version":1}',
                              '{"id":3,"name":"A","status":"suspended","updated_at":"y","auth_version":2}'),
          '[{"field":"status","before":"active","after":"suspended"}]'::jsonb,
          'only what changed, without ids, timestamps and bookkeeping');
SELECT is(audit.event_changes(NULL, '{"id":3,"name":"A","logo_url":null,"password_hash":"[redacted]"}'),
          '[{"field":"name","before":null,"after":"A"}]'::jsonb,
          'an insert lists what it set, not its empty fields nor the hash');

-- A user's own zone -------------------------------------------------------------------------------
SELECT pg_temp.ctx('geniai_tenant', 'a', 'client', 'a_client');
SELECT is(app.user_set_timezone('America/Manaus'), pg_temp.fx('a_client'), 'a client sets their own zone');
SELECT is((SELECT timezone FROM app.users WHERE id = pg_temp.fx('a_client')), 'America/Manaus', 'and reads it back');
SELECT throws_ok($$SELECT app.user_set_timezone('Brasília')$$, '23514', NULL, 'an unknown zone is refused by users_timezone_check');
RESET ROLE;
SELECT is((SELECT timezone FROM app.users WHERE id = pg_temp.fx('a_admin')), 'America/Sao_Paulo',
          'nobody else''s zone changed (default America/Sao_Paulo)');

SELECT * FROM finish();
ROLLBACK;
