-- Catalog rules (docs/security.md), checked over pg_catalog so they hold for every object a
-- future migration adds. Each rule is a query returning the offending objects, asserted empty:
-- a failure prints the offenders by name.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.

BEGIN;
SELECT plan(30);

-- Our schemas. Tenant-data schemas (analytics, audit, etl) are the Citus-distributed ones.
CREATE TEMP VIEW our_tables AS
SELECT c.oid, n.nspname, c.relname, c.relowner, c.relrowsecurity, c.relforcerowsecurity,
       format('%I.%I', n.nspname, c.relname) AS name,
       t.attnum AS tenant_attnum,
       -- ETL staging: tables of schema etl named stage_* or UNLOGGED. COPY cannot target an RLS
       -- table, so staging has no RLS and is instead closed to every role but geniai_etl and the
       -- owner (050_etl_staging.sql checks that).
       (n.nspname = 'etl' AND (c.relname LIKE 'stage\_%' OR c.relpersistence = 'u')) AS is_staging
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute t ON t.attrelid = c.oid AND t.attname = 'tenant_id' AND NOT t.attisdropped
 WHERE n.nspname IN ('app', 'analytics', 'etl', 'audit')
   AND c.relkind IN ('r', 'p');

-- Tables that hold tenants' rows: every table with a tenant_id column, and app.tenants itself;
-- staging is the one exception (see is_staging).
CREATE TEMP VIEW tenant_tables AS
SELECT * FROM our_tables
 WHERE (tenant_attnum IS NOT NULL OR oid = 'app.tenants'::regclass)
   AND NOT is_staging;

-- Tenant-data tables: distributed by tenant_id on Citus (docs/security.md), so the key rules apply.
CREATE TEMP VIEW tenant_data_tables AS
SELECT * FROM our_tables
 WHERE nspname IN ('analytics', 'audit', 'etl') AND tenant_attnum IS NOT NULL;

-- Roles that are neither superusers, nor built-in (pg_*), plus the PUBLIC pseudo-role.
CREATE TEMP VIEW grantees AS
SELECT oid, rolname FROM pg_roles WHERE NOT rolsuper AND rolname !~ '^pg_'
UNION ALL
SELECT 0, 'public';

-- The rules must not pass vacuously: the selections find the tables we know of.
SELECT set_has(
    'SELECT name FROM tenant_tables',
    $$VALUES ('app.tenants'), ('app.users'), ('app.tenant_inboxes'), ('app.tenant_settings'),
             ('analytics.conversations'), ('analytics.transcripts'), ('analytics.daily_stats'),
             ('etl.runs'), ('etl.watermarks'), ('audit.events')$$,
    'the tenant-table selection finds every known tenant table');
SELECT set_has(
    'SELECT name FROM tenant_data_tables',
    $$VALUES ('analytics.conversations'), ('analytics.transcripts'), ('analytics.daily_stats'), ('etl.runs'),
             ('etl.watermarks'), ('audit.events')$$,
    'the tenant-data-table selection finds every known tenant-data table');

-- (a) RLS enabled and forced, and at least one policy, on every table holding tenants' rows.
SELECT is_empty($$
    SELECT name || ': ' || concat_ws(', ',
               CASE WHEN NOT relrowsecurity THEN 'RLS not enabled' END,
               CASE WHEN NOT relforcerowsecurity THEN 'RLS not forced' END,
               CASE WHEN NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = t.oid)
                    THEN 'no policy' END)
      FROM tenant_tables t
     WHERE NOT relrowsecurity OR NOT relforcerowsecurity
        OR NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = t.oid)
$$, '(a) every tenant table has RLS enabled and forced and at least one policy');

-- (b) Policies name their roles: none applies TO PUBLIC.
SELECT is_empty($$
    SELECT format('policy %I on %s applies to PUBLIC', polname, polrelid::regclass)
      FROM pg_policy
     WHERE 0 = ANY (polroles)
$$, '(b) no policy applies TO PUBLIC');

-- (c) Write policies carry an explicit WITH CHECK; INSERT policies have nothing else.
SELECT is_empty($$
    SELECT format('policy %I on %s (%s) has no WITH CHECK', polname, polrelid::regclass,
                  CASE polcmd WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' ELSE 'ALL' END)
      FROM pg_policy
     WHERE polcmd IN ('a', 'w', '*') AND polwithcheck IS NULL
$$, '(c) every INSERT, UPDATE and ALL policy has WITH CHECK');
SELECT is_empty($$
    SELECT format('INSERT policy %I on %s has a USING expression', polname, polrelid::regclass)
      FROM pg_policy
     WHERE polcmd = 'a' AND polqual IS NOT NULL
$$, '(c) INSERT policies have only a WITH CHECK expression');

-- (d) Tenant-data tables: tenant_id NOT NULL, leading every unique key, inside every FK between them.
SELECT is_empty($$
    SELECT name || ': tenant_id is nullable'
      FROM tenant_data_tables t
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = t.tenant_attnum
     WHERE NOT a.attnotnull
$$, '(d) tenant_id is NOT NULL in every tenant-data table');
SELECT is_empty($$
    SELECT t.name || ': table has no primary key'
      FROM tenant_data_tables t
     WHERE NOT t.is_staging
       AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = t.oid AND i.indisprimary)
$$, '(d) every tenant-data table but staging has a primary key');
SELECT is_empty($$
    SELECT format('%s: %s %s does not start with tenant_id', t.name,
                  CASE WHEN i.indisprimary THEN 'primary key'
                       WHEN con.oid IS NOT NULL THEN 'unique constraint'
                       ELSE 'unique index' END,
                  i.indexrelid::regclass)
      FROM tenant_data_tables t
      JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique
      LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = t.oid
     WHERE i.indkey[0] <> t.tenant_attnum
$$, '(d) every primary key, unique constraint and unique index of a tenant-data table starts with tenant_id');
SELECT is_empty($$
    SELECT format('%s: foreign key %I to %s does not pair tenant_id with tenant_id',
                  src.name, con.conname, dst.name)
      FROM pg_constraint con
      JOIN tenant_data_tables src ON src.oid = con.conrelid
      JOIN tenant_data_tables dst ON dst.oid = con.confrelid
     WHERE con.contype = 'f'
       AND NOT EXISTS (SELECT FROM generate_subscripts(con.conkey, 1) k
                        WHERE con.conkey[k] = src.tenant_attnum
                          AND con.confkey[k] = dst.tenant_attnum)
$$, '(d) every foreign key between tenant-data tables includes tenant_id on both sides');

-- (e) Views over our data run with the caller's privileges, so RLS applies to the caller.
SELECT is_empty($$
    SELECT format('%I.%I', n.nspname, c.relname) || ': view without security_invoker=true'
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('app', 'analytics', 'etl', 'audit')
       AND c.relkind = 'v'
       AND NOT EXISTS (SELECT FROM pg_options_to_table(c.reloptions) o
                        WHERE o.option_name = 'security_invoker' AND o.option_value::boolean)
$$, '(e) every view in app, analytics, etl and audit has security_invoker=true');

-- (f) SECURITY DEFINER functions: search_path pinned, not executable by PUBLIC.
CREATE TEMP VIEW definer_functions AS
SELECT p.oid, p.oid::regprocedure::text AS name, p.proconfig, p.proacl, p.proowner
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.prosecdef
   AND (n.nspname IN ('app', 'analytics', 'etl', 'audit')
        OR pg_get_userbyid(p.proowner) LIKE 'geniai\_%');
SELECT isnt_empty('SELECT * FROM definer_functions',
                  '(f) the SECURITY DEFINER selection finds functions (audit.log at least)');
SELECT is_empty($$
    SELECT name || ': SECURITY DEFINER without SET search_path'
      FROM definer_functions
     WHERE NOT EXISTS (SELECT FROM unnest(proconfig) c WHERE c LIKE 'search\_path=%')
$$, '(f) every SECURITY DEFINER function pins its search_path');
SELECT is_empty($$
    SELECT name || ': search_path does not end with pg_temp (temporary tables could shadow its relations)'
      FROM definer_functions
     WHERE NOT EXISTS (SELECT FROM unnest(proconfig) c WHERE c LIKE 'search\_path=%pg\_temp')
$$, '(f) every SECURITY DEFINER function searches pg_temp last');
SELECT is_empty($$
    SELECT name || ': EXECUTE granted to PUBLIC'
      FROM definer_functions
     WHERE EXISTS (SELECT FROM aclexplode(coalesce(proacl, acldefault('f', proowner))) a
                    WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
        OR has_function_privilege('public', oid, 'EXECUTE')
$$, '(f) no SECURITY DEFINER function is executable by PUBLIC');

-- (g) Role attributes.
SELECT is_empty($$
    SELECT rolname || ': ' || concat_ws(', ', CASE WHEN rolsuper THEN 'SUPERUSER' END,
                                              CASE WHEN rolbypassrls THEN 'BYPASSRLS' END)
      FROM pg_roles
     WHERE rolname LIKE 'geniai\_%' AND (rolsuper OR (rolbypassrls AND rolname <> 'geniai_backup'))
$$, '(g) no geniai_* role is SUPERUSER or BYPASSRLS (but geniai_backup, see (l))');
SELECT results_eq(
    $$SELECT rolcanlogin, rolinherit FROM pg_roles WHERE rolname = 'geniai_authenticator'$$,
    $$VALUES (true, false)$$,
    '(g) geniai_authenticator is LOGIN and NOINHERIT');
SELECT is_empty($$
    SELECT rolname || ': ' || concat_ws(', ', CASE WHEN rolcanlogin THEN 'LOGIN' END,
                                              CASE WHEN rolinherit THEN 'INHERIT' END,
                                              CASE WHEN rolcreaterole THEN 'CREATEROLE' END,
                                              CASE WHEN rolcreatedb THEN 'CREATEDB' END)
      FROM pg_roles
     WHERE rolname IN ('geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl')
       AND (rolcanlogin OR rolinherit OR rolcreaterole OR rolcreatedb)
$$, '(g) the request roles are NOLOGIN NOINHERIT NOCREATEROLE NOCREATEDB');
SELECT is(
    ARRAY(SELECT r.rolname::text FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
           WHERE m.member = 'geniai_authenticator'::regrole ORDER BY 1),
    ARRAY['geniai_anon', 'geniai_etl', 'geniai_staff', 'geniai_tenant'],
    '(g) geniai_authenticator may switch to exactly anon, etl, staff and tenant (never the owner)');

-- (h) Materialized views have no RLS: none over tenant data.
SELECT is_empty($$
    SELECT format('%I.%I', n.nspname, c.relname) || ': materialized view'
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'm' AND n.nspname = 'analytics'
$$, '(h) no materialized view in analytics');
SELECT is_empty($$
    SELECT format('%s can read materialized view %I.%I', r.rolname, n.nspname, c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN (VALUES ('geniai_anon'), ('geniai_tenant'), ('geniai_authenticator'), ('public')) r (rolname)
     WHERE c.relkind = 'm' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND has_table_privilege(r.rolname, c.oid, 'SELECT')
$$, '(h) no materialized view anywhere is readable by tenant, anon, authenticator or PUBLIC');

-- (i) tenant_id is never updatable (nor app.tenants.id) by anyone but the owner.
SELECT is_empty($$
    SELECT format('%s can UPDATE %s.%I', g.rolname, t.name, a.attname)
      FROM our_tables t
      JOIN pg_attribute a ON a.attrelid = t.oid
                         AND (a.attnum = t.tenant_attnum
                              OR (t.oid = 'app.tenants'::regclass AND a.attname = 'id'))
     CROSS JOIN grantees g
     WHERE NOT t.is_staging -- the loader may write any tenant_id there anyway
       AND g.oid <> t.relowner
       AND (g.oid = 0 OR NOT pg_has_role(g.oid, t.relowner, 'USAGE'))
       AND has_column_privilege(g.rolname, t.oid, a.attnum, 'UPDATE')
$$, '(i) no role but the owner may UPDATE a tenant_id column or app.tenants.id');

-- (j) Password hashes are readable by nobody but the owner (SECURITY DEFINER login functions).
SELECT is_empty($$
    SELECT g.rolname || ' can SELECT app.users.password_hash'
      FROM grantees g
     WHERE g.oid <> 'geniai_owner'::regrole
       AND (g.oid = 0 OR NOT pg_has_role(g.oid, 'geniai_owner', 'USAGE'))
       AND g.rolname <> 'geniai_backup' -- it reads everything, for pg_dump (l)
       AND has_column_privilege(g.rolname, 'app.users', 'password_hash', 'SELECT')
$$, '(j) no role but the owner (and the backup role) may SELECT app.users.password_hash');
SELECT set_has(
    'SELECT rolname::text FROM grantees',
    $$VALUES ('geniai_anon'), ('geniai_tenant'), ('geniai_staff'), ('geniai_etl'),
             ('geniai_authenticator'), ('public')$$,
    '(i, j) the grantees checked include every request role, the authenticator and PUBLIC');

-- (k) The authenticator's only privileges are on public.sessions and app.set_context (the first
-- statement of every transaction, which switches role), and geniai_anon has none on any relation
-- (before login it may only execute the login functions) (docs/security.md).
CREATE TEMP VIEW relation_privileges AS
SELECT r.rolname, c.oid, format('%I.%I', n.nspname, c.relname) AS name, p.priv
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN (VALUES ('geniai_authenticator'), ('geniai_anon')) r (rolname)
 CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p (priv)
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND (n.nspname IN ('app', 'analytics', 'etl', 'audit') OR pg_get_userbyid(c.relowner) = 'geniai_owner')
   AND (CASE WHEN c.relkind = 'S' THEN p.priv IN ('SELECT', 'UPDATE')
                                    AND has_sequence_privilege(r.rolname, c.oid, p.priv)
             ELSE has_table_privilege(r.rolname, c.oid, p.priv)
                  OR (p.priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                      AND has_any_column_privilege(r.rolname, c.oid, p.priv)) END);
SELECT is_empty($$
    SELECT format('geniai_authenticator has %s on %s', priv, name)
      FROM relation_privileges
     WHERE rolname = 'geniai_authenticator' AND oid <> 'public.sessions'::regclass
$$, '(k) geniai_authenticator has no privilege on any of our relations but public.sessions');
SELECT is_empty($$
    SELECT format('geniai_anon has %s on %s', priv, name) FROM relation_privileges WHERE rolname = 'geniai_anon'
$$, '(k) geniai_anon has no privilege on any of our relations');
SELECT is_empty($$
    SELECT 'geniai_authenticator can EXECUTE ' || p.oid::regprocedure::text
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE (n.nspname IN ('app', 'analytics', 'etl', 'audit') OR p.proowner = 'geniai_owner'::regrole)
       AND has_function_privilege('geniai_authenticator', p.oid, 'EXECUTE')
       AND p.oid NOT IN ('app.set_context(text, bigint, bigint, text, text, text, text)'::regprocedure,
                         'app.is_staff(text)'::regprocedure)
$$, '(k) geniai_authenticator can execute none of our functions but app.set_context (and app.is_staff, which it checks the app role with)');

-- (l) The backup role (`geniai db bootstrap --backup`) is the one exception to (g) and (j): pg_dump
-- must read every row past forced RLS. It reads everything through pg_read_all_data and nothing
-- else: no other membership, no members, no role attributes but LOGIN, INHERIT and BYPASSRLS, and
-- no privilege that writes. Vacuous where the role does not exist.
SELECT is_empty($$
    SELECT 'geniai_backup: ' || concat_ws(', ', CASE WHEN rolsuper THEN 'SUPERUSER' END,
                                               CASE WHEN rolcreaterole THEN 'CREATEROLE' END,
                                               CASE WHEN rolcreatedb THEN 'CREATEDB' END,
                                               CASE WHEN rolreplication THEN 'REPLICATION' END)
      FROM pg_roles
     WHERE rolname = 'geniai_backup' AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication)
$$, '(l) geniai_backup is not SUPERUSER, CREATEROLE, CREATEDB or REPLICATION');
SELECT is_empty($$
    SELECT format('geniai_backup is a member of %s', r.rolname)
      FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
     WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = 'geniai_backup')
       AND r.rolname <> 'pg_read_all_data'
    UNION ALL
    SELECT format('%s is a member of geniai_backup', r.rolname)
      FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
     WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = 'geniai_backup')
$$, '(l) geniai_backup belongs to pg_read_all_data only, and nobody belongs to it');
SELECT is_empty($$
    SELECT format('geniai_backup has %s on %s', p.priv, c.oid::regclass)
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p (priv)
     WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = 'geniai_backup')
       AND c.relkind IN ('r', 'p', 'v', 'f')
       AND (n.nspname IN ('app', 'analytics', 'etl', 'audit') OR pg_get_userbyid(c.relowner) = 'geniai_owner')
       AND (has_table_privilege('geniai_backup', c.oid, p.priv)
            OR (p.priv IN ('INSERT', 'UPDATE', 'REFERENCES') AND has_any_column_privilege('geniai_backup', c.oid, p.priv)))
$$, '(l) geniai_backup may write nothing');

SELECT * FROM finish();
ROLLBACK;
