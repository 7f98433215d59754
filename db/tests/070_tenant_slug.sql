-- The onboarding wizard's live check of a new client's identifier: the format constraint's own
-- expression and the existing tenants, read-only, staff only.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.

BEGIN;
\ir fixtures.psql
SELECT plan(9);

SELECT pg_temp.ctx('geniai_staff', 'platform', 'support', 'staff_support');
SELECT is(app.tenant_slug_refusal('pgtap-free'), NULL, 'a well-formed unused slug is free');
SELECT is(app.tenant_slug_refusal('pgtap-a'), 'taken', 'another tenant''s slug is taken');
SELECT is(app.tenant_slug_refusal('PgTap'), 'format', 'upper case is refused by the format rule');
SELECT is(app.tenant_slug_refusal('-pgtap'), 'format', 'a leading hyphen is refused');
SELECT is(app.tenant_slug_refusal(repeat('a', 41)), 'format', '41 characters are refused');
SELECT is(app.tenant_slug_refusal(''), 'format', 'an empty slug is refused');
SELECT is(app.tenant_slug_refusal(NULL), 'format', 'no slug is refused');
RESET ROLE;
-- The check follows the constraint: what it calls free, the INSERT accepts.
SELECT lives_ok($$INSERT INTO app.tenants (slug, name) VALUES ('pgtap-free', 'Free')$$,
                'the slug it called free is accepted by app.tenants');
SELECT pg_temp.ctx('geniai_tenant', 'a', 'admin', 'a_admin');
SELECT throws_ok($$SELECT app.tenant_slug_refusal('x')$$, '42501', NULL, 'a tenant user cannot call it');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
