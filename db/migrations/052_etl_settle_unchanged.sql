-- A pass over every tenant settles the tenants whose source did not change in a few statements
-- per batch of tenants, instead of a transaction of ten statements per tenant (docs/adr).
--
-- etl.source_unchanged is the no-change test the per-tenant check (EtlUnchanged) and the pass
-- share. etl.pass_inboxes lists the inboxes of many tenants, etl.settle_unchanged records the
-- unchanged check of many tenants; both switch the transaction's tenant (app.set_context) before
-- touching a tenant's rows, so every row is still read and written under that tenant's policies,
-- and give the transaction back its own tenant at the end.

-- The tenant fields settle_unchanged writes when it opens a quiet stretch of checks directly as
-- succeeded (the per-tenant path inserts a running row and completes it).
GRANT INSERT (finished_at, last_check_at) ON etl.runs TO geniai_etl;

CREATE FUNCTION etl.source_unchanged(p_conversations bigint, p_hash bigint, p_max_updated_at timestamptz,
                                     p_overlap_seconds double precision, p_inbox_ids integer[],
                                     p_inbox_signatures text[])
    RETURNS boolean
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog
    AS $$
DECLARE
    t bigint := app.current_tenant_id();
    v_tz text;
    v_rules integer;
    v_ids integer[];
    v_sigs text[];
BEGIN
    -- Platform tables first, on their own: on Citus they live on the coordinator, and the
    -- tenant's tables below are then read with constants, on the tenant's worker.
    SELECT tn.timezone INTO v_tz FROM app.tenants tn WHERE tn.id = t;
    SELECT ts.rules_version INTO v_rules FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    IF NOT EXISTS (
        SELECT 1
        FROM etl.watermarks w
        WHERE w.tenant_id = t
          AND w.source_count = p_conversations
          -- Hash sums compare modulo the prime, in [0, prime) (the caller normalises p_hash): a
          -- sum of per-inbox sums may differ from the stored one by a multiple of it.
          AND mod(mod(w.source_hash::numeric, 9223372036854775783) + 9223372036854775783, 9223372036854775783) = p_hash
          AND w.timezone = v_tz
          AND w.rules_version = v_rules
          AND w.source_checked_at IS NOT NULL AND NOT w.reread_all
          AND (p_max_updated_at IS NULL
               OR p_max_updated_at < w.source_checked_at - make_interval(secs => p_overlap_seconds))) THEN
        RETURN false;
    END IF;
    SELECT coalesce(array_agg(ib.inbox_id ORDER BY ib.inbox_id), '{}'),
           coalesce(array_agg(ib.signature ORDER BY ib.inbox_id), '{}')
    INTO v_ids, v_sigs
    FROM analytics.inboxes ib
    WHERE ib.tenant_id = t;
    RETURN v_ids = coalesce(p_inbox_ids, '{}') AND v_sigs = coalesce(p_inbox_signatures, '{}');
END
$$;

COMMENT ON FUNCTION etl.source_unchanged(bigint, bigint, timestamptz, double precision, integer[], text[]) IS 'Whether the current tenant has nothing to read: the source fingerprint (conversations, hash sum, newest updated_at) equals what its last successful run stored, nothing changed within the overlap window before that run, the stored days and funnel stages were computed with the tenant''s current timezone and rules, and the inboxes'' descriptions (ids and signatures from the source, ordered by inbox) are those stored.';
REVOKE ALL ON FUNCTION etl.source_unchanged(bigint, bigint, timestamptz, double precision, integer[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl.source_unchanged(bigint, bigint, timestamptz, double precision, integer[], text[]) TO geniai_etl;

-- Switches the transaction to tenant p_tenant_id, keeping the rest of its identity.
CREATE FUNCTION etl.use_tenant(p_tenant_id bigint)
    RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog
    AS $$
    SELECT app.set_context(NULL, p_tenant_id, app.current_user_id(),
                           coalesce(current_setting('geniai.app_role', true), ''),
                           coalesce(current_setting('geniai.actor', true), ''),
                           coalesce(current_setting('geniai.ip', true), ''),
                           coalesce(current_setting('geniai.user_agent', true), ''))
$$;

COMMENT ON FUNCTION etl.use_tenant(bigint) IS 'Switches the transaction''s tenant (app.set_context, so Citus replays it on the workers), keeping its role and the rest of its identity: how a pass over many tenants reads and writes each under that tenant''s policies.';
REVOKE ALL ON FUNCTION etl.use_tenant(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl.use_tenant(bigint) TO geniai_etl;

CREATE FUNCTION etl.pass_inboxes(p_tenant_ids bigint[])
    RETURNS TABLE (tenant_id bigint, inbox_ids integer[])
    LANGUAGE plpgsql
    SET search_path = pg_catalog
    AS $$
DECLARE
    v_own bigint := app.current_tenant_id();
    t bigint;
BEGIN
    FOREACH t IN ARRAY p_tenant_ids LOOP
        PERFORM etl.use_tenant(t);
        tenant_id := t;
        SELECT coalesce(array_agg(ti.inbox_id ORDER BY ti.inbox_id), '{}') INTO inbox_ids
        FROM app.tenant_inboxes ti
        WHERE ti.tenant_id = t;
        RETURN NEXT;
    END LOOP;
    PERFORM etl.use_tenant(v_own);
END
$$;

COMMENT ON FUNCTION etl.pass_inboxes(bigint[]) IS 'The Chatwoot inboxes mapped to each of the given tenants (ordered by id), each read as that tenant: what a pass sums the source''s per-inbox fingerprints over.';
REVOKE ALL ON FUNCTION etl.pass_inboxes(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl.pass_inboxes(bigint[]) TO geniai_etl;

CREATE FUNCTION etl.settle_unchanged(p_lock_class integer, p_source_now timestamptz, p_overlap_seconds double precision,
                                     p_worker text, p_tenant_ids bigint[], p_conversations bigint[], p_hashes bigint[],
                                     p_max_updated_at timestamptz[], p_inbox_offsets integer[], p_inbox_ids integer[],
                                     p_inbox_signatures text[])
    RETURNS TABLE (tenant_id bigint, run_id bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog
    AS $$
DECLARE
    v_own bigint := app.current_tenant_id();
    t bigint;
    v_at timestamptz;
    prev_id bigint;
    prev_unchanged boolean;
    prev_status text;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_tenant_ids), 0) LOOP
        t := p_tenant_ids[i];
        PERFORM etl.use_tenant(t);
        -- The tenant's runs are serialised by its advisory lock: a tenant another runner holds is
        -- left to the per-tenant path (which reports it skipped). Held to the commit, so no run of
        -- the tenant starts while its check is recorded.
        CONTINUE WHEN NOT pg_try_advisory_xact_lock(p_lock_class, t::integer);
        CONTINUE WHEN NOT etl.source_unchanged(p_conversations[i], p_hashes[i], p_max_updated_at[i], p_overlap_seconds,
                                               p_inbox_ids[p_inbox_offsets[i] + 1 : p_inbox_offsets[i + 1]],
                                               p_inbox_signatures[p_inbox_offsets[i] + 1 : p_inbox_offsets[i + 1]]);
        v_at := clock_timestamp();
        -- Runs left running by a process that died (holding the lock, no live runner owns them).
        UPDATE etl.runs r
        SET status = 'stale', finished_at = v_at, error = 'o processo parou antes de terminar'
        WHERE r.tenant_id = t AND r.status = 'running';
        -- A quiet stretch is one row (as etl.finish_unchanged_run): the check is folded into the
        -- latest run when that was an unchanged success, else it opens a new stretch.
        prev_id := NULL;
        SELECT r.id, r.unchanged, r.status INTO prev_id, prev_unchanged, prev_status
        FROM etl.runs r
        WHERE r.tenant_id = t
        ORDER BY r.id DESC
        LIMIT 1;
        IF prev_id IS NOT NULL AND prev_unchanged AND prev_status = 'succeeded' THEN
            UPDATE etl.runs r SET checks = r.checks + 1, last_check_at = v_at
            WHERE r.tenant_id = t AND r.id = prev_id;
            run_id := prev_id;
        ELSE
            INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, full_load, worker, unchanged, last_check_at)
            VALUES (t, v_at, v_at, 'succeeded', false, p_worker, true, v_at)
            RETURNING id INTO run_id;
        END IF;
        UPDATE etl.watermarks w
        SET last_success_at = v_at, last_run_id = run_id, updated_at = v_at, source_checked_at = p_source_now
        WHERE w.tenant_id = t;
        tenant_id := t;
        RETURN NEXT;
    END LOOP;
    PERFORM etl.use_tenant(v_own);
END
$$;

COMMENT ON FUNCTION etl.settle_unchanged(integer, timestamptz, double precision, text, bigint[], bigint[], bigint[], timestamptz[], integer[], integer[], text[]) IS 'Records the unchanged check of every given tenant whose source fingerprint (p_conversations, p_hashes, p_max_updated_at: NULL or a time before any conversation when there is none) and inbox descriptions (p_inbox_ids and p_inbox_signatures, tenant i''s from p_inbox_offsets[i] + 1 to p_inbox_offsets[i + 1]) show nothing to read (etl.source_unchanged), and whose advisory lock (p_lock_class, tenant) is free: stale runs closed, the check folded into the latest unchanged success or recorded as a new one, the watermark at p_source_now. Returns the tenants settled and the run standing for each check; the others need a run of their own.';
REVOKE ALL ON FUNCTION etl.settle_unchanged(integer, timestamptz, double precision, text, bigint[], bigint[], bigint[], timestamptz[], integer[], integer[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl.settle_unchanged(integer, timestamptz, double precision, text, bigint[], bigint[], bigint[], timestamptz[], integer[], integer[], text[]) TO geniai_etl;

---- create above / drop below ----

DROP FUNCTION etl.settle_unchanged(integer, timestamptz, double precision, text, bigint[], bigint[], bigint[], timestamptz[], integer[], integer[], text[]);
DROP FUNCTION etl.pass_inboxes(bigint[]);
DROP FUNCTION etl.use_tenant(bigint);
DROP FUNCTION etl.source_unchanged(bigint, bigint, timestamptz, double precision, integer[], text[]);
REVOKE INSERT (finished_at, last_check_at) ON etl.runs FROM geniai_etl;
