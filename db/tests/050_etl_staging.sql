-- ETL state and staging (docs/etl.md): the staging tables have no RLS (COPY cannot target an
-- RLS table), so privileges alone must keep every role but the loader out of them; and no request
-- role but the loader writes ETL state (runs, watermarks).
--
-- Staging tables are the tables of schema etl named stage_* or UNLOGGED. The rules are queries
-- over the catalog, so they hold for staging tables that do not exist yet; a probe table created
-- (and dropped) at the end shows that each rule fails when broken.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.
--
-- citus: its catalog rules hold for the coordinator as written here; its writes by role are in
-- citus/030_isolation.sql (etl.runs and etl.watermarks are in the isolation table list).

BEGIN;
\ir fixtures.psql
SELECT plan(30);

CREATE TEMP VIEW staging AS
SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name, c.relowner, c.relpersistence
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'etl' AND c.relkind IN ('r', 'p')
   AND (c.relname LIKE 'stage\_%' OR c.relpersistence = 'u');
GRANT SELECT ON staging TO PUBLIC;

-- Every privilege on a staging table held by a role that is not the owner or the loader (or a
-- superuser, a built-in pg_* role, or a role acting as one of those through INHERIT), or by PUBLIC.
-- The backup role reads everything, staging included (010_catalog.sql (l)).
CREATE TEMP VIEW staging_offences AS
SELECT format('%s: %s has %s', s.name, g.rolname, p.priv) AS offence
  FROM staging s
 CROSS JOIN (SELECT oid, rolname::text FROM pg_roles WHERE NOT rolsuper AND rolname !~ '^pg_'
             UNION ALL SELECT 0, 'public') g
 CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p (priv)
 WHERE (g.oid = 0 OR NOT (pg_has_role(g.oid, s.relowner, 'USAGE') OR pg_has_role(g.oid, 'geniai_etl', 'USAGE')))
   AND NOT (g.rolname = 'geniai_backup' AND p.priv = 'SELECT')
   AND (has_table_privilege(g.rolname, s.oid, p.priv)
        OR (p.priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
            AND has_any_column_privilege(g.rolname, s.oid, p.priv)));

-- Staging tables the current role can read (run as each request role).
CREATE FUNCTION pg_temp.readable_staging() RETURNS SETOF text
    LANGUAGE plpgsql
    AS $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT oid, name FROM staging LOOP
        BEGIN
            EXECUTE format('SELECT FROM %s LIMIT 1', s.oid::regclass);
            RETURN NEXT s.name;
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END;
    END LOOP;
END
$$;

-- Every write privilege on any table of schema etl held by a role other than the loader.
CREATE TEMP VIEW etl_write_offences AS
SELECT format('%I.%I: %s has %s', n.nspname, c.relname, r.rolname, p.priv) AS offence
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN (VALUES ('geniai_tenant'), ('geniai_staff'), ('geniai_anon'), ('geniai_authenticator'), ('public')) r (rolname)
 CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p (priv)
 WHERE n.nspname = 'etl' AND c.relkind IN ('r', 'p')
   AND (has_table_privilege(r.rolname, c.oid, p.priv)
        OR (p.priv IN ('INSERT', 'UPDATE') AND has_any_column_privilege(r.rolname, c.oid, p.priv)));

-- Staging ------------------------------------------------------------------------------------------
SELECT is_empty('SELECT offence FROM staging_offences',
                'no role but the owner and geniai_etl has any privilege on an etl staging table');
SELECT is_empty($$SELECT name || ' is not UNLOGGED' FROM staging WHERE relpersistence <> 'u'$$,
                'every etl staging table is UNLOGGED');
SELECT pg_temp.ctx('geniai_tenant', 'a', 'admin', 'a_admin');
SELECT is_empty('SELECT * FROM pg_temp.readable_staging()', 'tenant admin: reads no staging table');
SELECT pg_temp.ctx('geniai_staff', 'platform', 'super_admin', 'staff_super');
SELECT is_empty('SELECT * FROM pg_temp.readable_staging()', 'super_admin: reads no staging table');
SELECT pg_temp.ctx('geniai_anon', NULL, NULL, NULL);
SELECT is_empty('SELECT * FROM pg_temp.readable_staging()', 'anon: reads no staging table');
SELECT pg_temp.ctx('none', NULL, NULL, NULL);

-- ETL state: written by the loader only ------------------------------------------------------------
SELECT is_empty('SELECT offence FROM etl_write_offences',
                'no request role but geniai_etl may write any table of schema etl');
SELECT pg_temp.ctx('geniai_tenant', 'a', 'admin', 'a_admin');
SELECT is(pg_temp.ins(t, pg_temp.fx('a')), 'denied', format('tenant admin: cannot insert into %s, even for A', t))
  FROM tt WHERE t IN ('etl.runs'::regclass, 'etl.watermarks') ORDER BY ord;
SELECT is(pg_temp.upd(t, pg_temp.fx('a')), 'denied', format('tenant admin: cannot update %s, even A''s', t))
  FROM tt WHERE t IN ('etl.runs'::regclass, 'etl.watermarks') ORDER BY ord;
SELECT is(pg_temp.del(t, pg_temp.fx('a')), 'denied', format('tenant admin: cannot delete from %s, even A''s', t))
  FROM tt WHERE t IN ('etl.runs'::regclass, 'etl.watermarks') ORDER BY ord;
SELECT pg_temp.ctx('geniai_tenant', 'a', 'client', 'a_client');
SELECT is(pg_temp.ins(t, pg_temp.fx('a')), 'denied', format('tenant client: cannot insert into %s, even for A', t))
  FROM tt WHERE t IN ('etl.runs'::regclass, 'etl.watermarks') ORDER BY ord;
SELECT is(pg_temp.upd(t, pg_temp.fx('a')), 'denied', format('tenant client: cannot update %s, even A''s', t))
  FROM tt WHERE t IN ('etl.runs'::regclass, 'etl.watermarks') ORDER BY ord;
SELECT pg_temp.ctx('geniai_staff', 'platform', 'super_admin', 'staff_super');
SELECT is(pg_temp.ins(t, pg_temp.fx('a')), 'denied', format('super_admin: cannot insert into %s', t))
  FROM tt WHERE t IN ('etl.runs'::regclass, 'etl.watermarks') ORDER BY ord;
SELECT is(pg_temp.upd(t, pg_temp.fx('a')), 'denied', format('super_admin: cannot update %s', t))
  FROM tt WHERE t IN ('etl.runs'::regclass, 'etl.watermarks') ORDER BY ord;
SELECT is(pg_temp.seen('etl.runs', pg_temp.fx('a')), pg_temp.truth('etl.runs', pg_temp.fx('a')),
          'super_admin: reads the runs (ETL health)');
-- The loader, for A: the same statements work, so the refusals above are about the role.
SELECT pg_temp.ctx('geniai_etl', 'a', NULL, NULL, 'etl');
SELECT is(pg_temp.ins('etl.runs', pg_temp.fx('a')), '1', 'etl for A: starts a run of A');
SELECT is(pg_temp.try(format($$UPDATE etl.runs SET status = 'succeeded', finished_at = now()
                               WHERE tenant_id = %s AND status = 'running'$$, pg_temp.fx('a'))),
          pg_temp.truth('etl.runs', pg_temp.fx('a')), 'etl for A: finishes A''s runs');
SELECT is(pg_temp.upd('etl.watermarks', pg_temp.fx('a')), '1', 'etl for A: moves A''s watermark');
SELECT is(pg_temp.ins('etl.watermarks', pg_temp.fx('b')), 'denied', 'etl for A: cannot create B''s watermark');
SELECT pg_temp.ctx('none', NULL, NULL, NULL);

-- The rules fail when broken: a probe staging table, logged, readable by tenants, writable by staff.
SET LOCAL ROLE geniai_owner;
CREATE TABLE etl.stage_pgtap_probe (tenant_id bigint NOT NULL, conversation_id integer NOT NULL);
GRANT SELECT ON etl.stage_pgtap_probe TO geniai_tenant;
GRANT INSERT (tenant_id) ON etl.stage_pgtap_probe TO geniai_staff;
RESET ROLE;
SELECT set_has('SELECT offence FROM staging_offences',
               $$VALUES ('etl.stage_pgtap_probe: geniai_tenant has SELECT'),
                        ('etl.stage_pgtap_probe: geniai_staff has INSERT')$$,
               'probe: the staging privilege rule names the offending grants');
SELECT set_has($$SELECT name FROM staging WHERE relpersistence <> 'u'$$, $$VALUES ('etl.stage_pgtap_probe')$$,
               'probe: the UNLOGGED rule names a logged staging table');
SELECT pg_temp.ctx('geniai_tenant', 'a', 'admin', 'a_admin');
SELECT set_has('SELECT * FROM pg_temp.readable_staging()', $$VALUES ('etl.stage_pgtap_probe')$$,
               'probe: a tenant reading a staging table is caught');
SELECT pg_temp.ctx('none', NULL, NULL, NULL);
SELECT set_has('SELECT offence FROM etl_write_offences',
               $$VALUES ('etl.stage_pgtap_probe: geniai_staff has INSERT')$$,
               'probe: the ETL write rule names the offending grant');
DROP TABLE etl.stage_pgtap_probe;
SELECT hasnt_table('etl', 'stage_pgtap_probe', 'the probe is gone');

SELECT * FROM finish();
ROLLBACK;
