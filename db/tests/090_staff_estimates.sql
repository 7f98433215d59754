-- The per-tenant functions the staff pages call once per client return at most one row, and the
-- planner is told so: with its default estimate (1,000 rows per call) the overview of 1,000
-- clients looked a million rows big and paid for JIT compilation on every view.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.

BEGIN;
SELECT plan(2);

SELECT is((SELECT prorows FROM pg_proc WHERE oid = 'etl.latest_run(bigint)'::regprocedure), 1::real,
          'etl.latest_run is estimated at one row');
SELECT is((SELECT prorows FROM pg_proc WHERE oid = 'etl.watermark_of(bigint)'::regprocedure), 1::real,
          'etl.watermark_of is estimated at one row');

SELECT * FROM finish();
ROLLBACK;
