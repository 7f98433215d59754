-- The Citus cluster itself (run only by `make test/citus`, on the coordinator): the extension,
-- the registered nodes, node-to-node connectivity, and the login rules of the roles.
BEGIN;
SELECT plan(5);

SELECT has_extension('citus', 'the Citus extension is installed in the database');
SELECT is((SELECT count(*)::int FROM pg_dist_node WHERE isactive AND noderole = 'primary' AND groupid > 0), 2,
          'two active primary workers are registered');
SELECT is((SELECT count(*)::int FROM pg_dist_node WHERE groupid = 0), 1,
          'the coordinator is registered (it holds the reference tables'' local copy)');
SELECT is_empty($$ SELECT from_nodeport, to_nodeport FROM citus_check_cluster_node_health() WHERE NOT result $$,
                'every node connects to every node (certificate authentication)');
SELECT is_empty($$
    SELECT rolname FROM pg_roles
     WHERE rolname IN ('geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl') AND rolcanlogin
$$, 'the switchable roles cannot log in on the coordinator');

SELECT * FROM finish();
ROLLBACK;
