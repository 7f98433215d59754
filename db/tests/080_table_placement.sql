-- Where every table lives on a Citus cluster (app.table_placement, docs/adr/018-citus.md): every
-- table of the product is classified with a reason, and a table classified as distributed
-- satisfies what distribution by tenant_id needs. Checked on a single node too, so a migration
-- that adds a table without classifying it fails `make test` whether or not Citus is at hand.
-- db/tests/citus/020_distribution.sql checks that a cluster follows the classification.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.

BEGIN;
SELECT plan(9);

SELECT is_empty('SELECT * FROM app.unclassified_tables()',
                'every table of the product has a row in app.table_placement');
SELECT is_empty($$SELECT table_name FROM app.table_placement WHERE to_regclass(table_name) IS NULL$$,
                'every row of app.table_placement names an existing table');
SELECT is_empty($$
    SELECT p.table_name FROM app.table_placement p
      JOIN pg_class c ON c.oid = to_regclass(p.table_name) JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE format('%I.%I', n.nspname, c.relname) <> p.table_name
$$, 'table names are schema-qualified, as format(''%I.%I'') writes them');

-- Distributed tables: tenant_id NOT NULL, first in the primary key and in every unique key (a
-- unique index is enforced per shard, so it must include the distribution column).
CREATE TEMP VIEW distributed AS
SELECT to_regclass(table_name) AS oid, table_name, colocate_with FROM app.table_placement WHERE placement = 'distributed';
SELECT is_empty($$
    SELECT d.table_name FROM distributed d
     WHERE NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = d.oid AND a.attname = 'tenant_id'
                                                  AND a.attnotnull AND NOT a.attisdropped)
$$, 'every distributed table has tenant_id NOT NULL');
SELECT is_empty($$
    SELECT d.table_name || ': ' || i.indexrelid::regclass::text
      FROM distributed d JOIN pg_index i ON i.indrelid = d.oid
     WHERE (i.indisunique OR i.indisprimary)
       AND (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = d.oid AND a.attnum = i.indkey[0]) IS DISTINCT FROM 'tenant_id'
$$, 'tenant_id leads the primary key and every unique index of a distributed table');
-- Foreign keys between distributed tables must include tenant_id; none may point from a platform
-- (coordinator) table into a distributed one, nor out of a distributed table into anything but
-- another distributed table of its group.
SELECT is_empty($$
    SELECT c.conname || ' on ' || c.conrelid::regclass::text
      FROM pg_constraint c
      JOIN app.table_placement s ON to_regclass(s.table_name) = c.conrelid
      JOIN app.table_placement t ON to_regclass(t.table_name) = c.confrelid
     WHERE c.contype = 'f'
       AND (s.placement = 'distributed' OR t.placement = 'distributed')
       AND NOT (s.placement = 'distributed' AND t.placement = 'distributed'
                AND (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = c.conkey[1]) = 'tenant_id')
$$, 'foreign keys touching a distributed table join tenant data to tenant data, by tenant_id first');
SELECT is_empty($$
    SELECT d.table_name FROM distributed d
     WHERE d.colocate_with <> 'none'
       AND NOT EXISTS (SELECT FROM app.table_placement a WHERE a.table_name = d.colocate_with
                                                     AND a.placement = 'distributed' AND a.colocate_with = 'none')
$$, 'a distributed table follows a table that starts a co-location group');
-- The product's tenant data are distributed; the platform tables stay on the coordinator.
SELECT set_eq($$SELECT table_name FROM app.table_placement WHERE placement = 'distributed' AND table_name !~ '^etl\.stage_'$$,
              $$SELECT format('%I.%I', n.nspname, c.relname)
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname IN ('analytics', 'etl') AND c.relkind IN ('r', 'p') AND c.relname !~ '^stage_'
                   AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')$$,
              'the distributed tables are exactly the tenant-data tables of analytics and etl (and their staging)');

-- The rule fails when broken: a new table without a row (a work queue, say) is named.
CREATE TABLE app.pgtap_queue_probe (id bigint PRIMARY KEY);
SELECT set_eq('SELECT * FROM app.unclassified_tables()', $$VALUES ('app.pgtap_queue_probe')$$,
              'probe: a table nobody classified is named');
DROP TABLE app.pgtap_queue_probe;

SELECT * FROM finish();
ROLLBACK;
