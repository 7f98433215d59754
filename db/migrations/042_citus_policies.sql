-- Policies in a form Citus accepts (docs/adr/026-citus.md, docs/adr/001): the context helpers
-- are called directly, not through a scalar subquery. Citus refuses a subquery in a policy of a
-- distributed table ("Subqueries are not supported in policies on distributed tables"), and the
-- same migrations serve one node and a cluster. The helpers are STABLE SQL functions the planner
-- inlines; compared with `(SELECT app.current_tenant_id())` the plans are the same (the explicit
-- `tenant_id = $1` of every query and the policy meet in one equivalence class, so the policy is
-- checked once per statement as a one-time filter either way), and planning is cheaper.
-- Only the expressions change; names, commands, roles and meaning stay. Done by reading
-- pg_policies, so every policy of the earlier migrations is covered; the check at the end fails
-- the migration if one still wraps a helper.
DO $$
DECLARE
    v_pol record;
    v_pat constant text := '\( SELECT app\.(current_[a-z_]+)\(\) AS \1\)';
BEGIN
    FOR v_pol IN SELECT schemaname, tablename, policyname, qual, with_check FROM pg_catalog.pg_policies
                 WHERE qual ~ v_pat OR with_check ~ v_pat LOOP
        EXECUTE pg_catalog.format('ALTER POLICY %I ON %I.%I', v_pol.policyname, v_pol.schemaname, v_pol.tablename)
            || coalesce(' USING (' || pg_catalog.regexp_replace(v_pol.qual, v_pat, 'app.\1()', 'g') || ')', '')
            || coalesce(' WITH CHECK (' || pg_catalog.regexp_replace(v_pol.with_check, v_pat, 'app.\1()', 'g') || ')', '');
    END LOOP;
    IF EXISTS (SELECT FROM pg_catalog.pg_policies WHERE qual ~* 'select' OR with_check ~* 'select') THEN
        RAISE EXCEPTION 'a policy still holds a subquery';
    END IF;
END
$$;

---- create above / drop below ----

DO $$
DECLARE
    v_pol record;
    v_pat constant text := 'app\.(current_[a-z_]+)\(\)';
BEGIN
    FOR v_pol IN SELECT schemaname, tablename, policyname, qual, with_check FROM pg_catalog.pg_policies
                 WHERE qual ~ v_pat OR with_check ~ v_pat LOOP
        EXECUTE pg_catalog.format('ALTER POLICY %I ON %I.%I', v_pol.policyname, v_pol.schemaname, v_pol.tablename)
            || coalesce(' USING (' || pg_catalog.regexp_replace(v_pol.qual, v_pat, '(SELECT app.\1())', 'g') || ')', '')
            || coalesce(' WITH CHECK (' || pg_catalog.regexp_replace(v_pol.with_check, v_pat, '(SELECT app.\1())', 'g') || ')', '');
    END LOOP;
END
$$;
