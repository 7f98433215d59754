-- On a Citus cluster a dashboard statement that takes a platform table's value (the tenant's SLA
-- target, its sync time) reads it on the worker from an intermediate result: a function scan that
-- the worker's planner estimates at a thousand rows. Joined with a tenant's 5,000 conversations the
-- statement looked five million rows big, past jit_above_cost, and the worker compiled it with
-- LLVM for over a second every time (measured at SCALE=small: 1.3 s of a 1.4 s statement; 29 ms
-- with JIT off). `geniai db distribute` now also turns JIT off for the request roles on every
-- node (the roles' own setting, so database clones and a worker added later get it too; the
-- cluster's nodes serve this product only). A single node never runs it and keeps its settings.
CREATE OR REPLACE FUNCTION app.citus_role_logins() RETURNS TABLE (node text, result text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    r text;
    settings text := '';
BEGIN
    PERFORM set_config('citus.enable_alter_role_propagation', 'off', true);
    PERFORM set_config('citus.enable_alter_role_set_propagation', 'off', true);
    FOREACH r IN ARRAY ARRAY['geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl'] LOOP
        EXECUTE format('ALTER ROLE %I NOLOGIN', r);
        settings := settings || format('ALTER ROLE %I SET jit = off; ', r);
    END LOOP;
    EXECUTE settings;
    node := 'coordinator'; result := 'NOLOGIN';
    RETURN NEXT;
    RETURN QUERY EXECUTE $q$
        SELECT w.nodename || ':' || w.nodeport, CASE WHEN w.success THEN 'LOGIN' ELSE w.result END
          FROM run_command_on_workers('SET citus.enable_alter_role_propagation = off; '
               'SET citus.enable_alter_role_set_propagation = off; ' || $1 ||
               'ALTER ROLE geniai_anon LOGIN; ALTER ROLE geniai_tenant LOGIN; '
               'ALTER ROLE geniai_staff LOGIN; ALTER ROLE geniai_etl LOGIN') w
         ORDER BY 1 $q$ USING settings;
END
$$;
COMMENT ON FUNCTION app.citus_role_logins() IS '`geniai db distribute`: the request roles NOLOGIN on the coordinator and LOGIN on every worker, with JIT off for them on every node, node by node (Citus copies ALTER ROLE to every node otherwise).';

---- create above / drop below ----

CREATE OR REPLACE FUNCTION app.citus_role_logins() RETURNS TABLE (node text, result text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    r text;
BEGIN
    PERFORM set_config('citus.enable_alter_role_propagation', 'off', true);
    FOREACH r IN ARRAY ARRAY['geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl'] LOOP
        EXECUTE format('ALTER ROLE %I NOLOGIN', r);
    END LOOP;
    node := 'coordinator'; result := 'NOLOGIN';
    RETURN NEXT;
    RETURN QUERY EXECUTE $q$
        SELECT w.nodename || ':' || w.nodeport, CASE WHEN w.success THEN 'LOGIN' ELSE w.result END
          FROM run_command_on_workers('SET citus.enable_alter_role_propagation = off; '
               'ALTER ROLE geniai_anon LOGIN; ALTER ROLE geniai_tenant LOGIN; '
               'ALTER ROLE geniai_staff LOGIN; ALTER ROLE geniai_etl LOGIN') w
         ORDER BY 1 $q$;
END
$$;
COMMENT ON FUNCTION app.citus_role_logins() IS '`geniai db distribute`: the request roles NOLOGIN on the coordinator and LOGIN on every worker, node by node (Citus copies ALTER ROLE to every node otherwise).';
