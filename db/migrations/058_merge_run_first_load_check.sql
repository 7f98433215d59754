-- A tenant's first load (no watermark yet) decided whether to rebuild its history by scanning
-- every stored row of the tenant for one this run did not write (loaded_at <> now()): on a first
-- load that scan reads all the rows just inserted and finds none, about 4% of the load's database
-- time. etl.merge_run now counts instead: after the merges every staged id is a stored row, the
-- run wrote runs.inserted + runs.updated of them, and the rows gone from the source (known a few
-- lines later) are stored rows it did not write. Same decision, from the staging it already holds.
CREATE OR REPLACE FUNCTION etl.merge_run(p_run_id bigint) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog'
    SET jit TO 'off'
    SET work_mem TO '64MB'
    AS $$
DECLARE
    t          bigint := app.current_tenant_id();
    s          app.tenant_settings;
    rules      etl.funnel_rules;
    tz         text;
    w          etl.watermarks;
    rebuild    boolean;
    has_regex  boolean;
    v_gone     integer[];
    v_days     date[];
    v_del      integer;
    v_max      timestamptz;
    v_now      timestamptz;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.merge_run: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.merge_run: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    rules := etl.funnel_rules(s);
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    SELECT * INTO w FROM etl.watermarks wm WHERE wm.tenant_id = t;
    -- Rebuild history when the timezone or the rules differ from what the stored rows used
    -- (no watermark yet but rows present that this run did not write: unknown, so rebuild too;
    -- that is decided below, once the rows gone from the source are known).
    IF w.tenant_id IS NOT NULL THEN
        rebuild := w.timezone IS DISTINCT FROM tz OR w.rules_version IS DISTINCT FROM s.rules_version;
    END IF;
    -- Contact texts are only gathered when a rule has a regular expression.
    has_regex := s.lead_regex IS NOT NULL OR s.visit_regex IS NOT NULL OR s.converted_regex IS NOT NULL;

    -- Stored conversations gone from the source (deleted, or their inbox no longer the tenant's).
    -- EXCEPT hashes both sides: staging is never analysed (the loader does not own it), so a
    -- correlated NOT EXISTS can be planned as a nested loop over mis-estimated rows and take
    -- minutes on a large tenant.
    v_gone := ARRAY(
        SELECT c.conversation_id FROM analytics.conversations c WHERE c.tenant_id = t
        EXCEPT
        SELECT si.conversation_id FROM etl.stage_ids si WHERE si.tenant_id = t AND si.run_id = p_run_id);

    -- No watermark: did this run write every stored row? Each staged id is a stored conversation
    -- by now, and the run wrote (inserted or updated) runs.inserted + runs.updated of them; the
    -- others, and those gone from the source, are rows it did not write. Counting the staged ids
    -- replaces a scan of every stored row of the tenant for loaded_at <> now() (a first load's).
    IF w.tenant_id IS NULL THEN
        rebuild := cardinality(v_gone) > 0
                   OR (SELECT count(*) FROM etl.stage_ids si WHERE si.tenant_id = t AND si.run_id = p_run_id)
                      > (SELECT r.inserted + r.updated FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id);
    END IF;

    -- Days that lose rows: current days of conversations about to disappear.
    INSERT INTO etl.stage_days (tenant_id, run_id, day)
    SELECT DISTINCT c.tenant_id, p_run_id, c.created_day
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_gone));

    -- Reconcile deletions and inbox remapping: gone from the tenant's inboxes means gone here,
    -- with its transcript (no foreign key cascades it: see analytics.transcripts).
    v_del := cardinality(v_gone);
    IF v_del > 0 THEN
        DELETE FROM analytics.transcripts tr
        WHERE tr.tenant_id = t AND tr.conversation_id IN (SELECT unnest(v_gone));
        DELETE FROM analytics.conversations c
        WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_gone));
    END IF;

    v_days := ARRAY(SELECT DISTINCT sd.day FROM etl.stage_days sd WHERE sd.tenant_id = t AND sd.run_id = p_run_id);

    IF rebuild THEN
        -- Timezone, funnel rules, exclusion labels or SLA target changed: recompute from stored
        -- data, no source read.
        WITH cur AS (
            SELECT c.conversation_id,
                   (c.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN
                       etl.funnel_stage(rules, c.labels,
                           coalesce((SELECT analytics.contact_texts(tr.message_senders, tr.message_contents)
                                     FROM analytics.transcripts tr
                                     WHERE tr.tenant_id = t AND tr.conversation_id = c.conversation_id), '{}'),
                           c.contact_messages)
                   ELSE etl.funnel_stage_labels(rules, c.labels, c.contact_messages) END AS stage
            FROM analytics.conversations c
            WHERE c.tenant_id = t
        )
        UPDATE analytics.conversations c
        SET created_day = cur.local_created::date,
            created_hour = extract(hour FROM cur.local_created)::smallint,
            created_dow = extract(dow FROM cur.local_created)::smallint,
            is_lead = cur.stage >= 1, is_visit = cur.stage >= 2, is_converted = cur.stage >= 3
        FROM cur
        WHERE c.tenant_id = t AND c.conversation_id = cur.conversation_id
          AND (c.created_day, c.created_hour, c.created_dow, c.is_lead, c.is_visit, c.is_converted)
              IS DISTINCT FROM (cur.local_created::date, extract(hour FROM cur.local_created)::smallint,
                                extract(dow FROM cur.local_created)::smallint,
                                cur.stage >= 1, cur.stage >= 2, cur.stage >= 3);
        -- Business time and SLA instants (the tenant's timezone applies to inboxes without one).
        PERFORM etl.apply_business_hours(p_run_id, NULL);
        PERFORM etl.refresh_daily_stats(NULL);
    ELSIF cardinality(v_days) > 0 THEN
        PERFORM etl.refresh_daily_stats(v_days);
    END IF;

    SELECT max(si.updated_at) INTO v_max FROM etl.stage_ids si WHERE si.tenant_id = t AND si.run_id = p_run_id;

    -- Citus refuses a volatile function in an UPDATE of a distributed table: the clock is read once.
    v_now := clock_timestamp();
    UPDATE etl.runs r
    SET status = 'succeeded', finished_at = v_now, deleted = v_del
    WHERE r.tenant_id = t AND r.id = p_run_id;

    INSERT INTO etl.watermarks AS wm (tenant_id, source_updated_at, last_success_at, last_run_id, updated_at, timezone, rules_version, reread_all)
    VALUES (t, v_max, v_now, p_run_id, v_now, tz, s.rules_version, false)
    ON CONFLICT (tenant_id) DO UPDATE SET
        source_updated_at = greatest(wm.source_updated_at, EXCLUDED.source_updated_at),
        last_success_at = EXCLUDED.last_success_at, last_run_id = EXCLUDED.last_run_id,
        updated_at = EXCLUDED.updated_at, timezone = EXCLUDED.timezone, rules_version = EXCLUDED.rules_version,
        reread_all = false;

    -- Staging never outlives the transaction that filled it.
    DELETE FROM etl.stage_conversations sc WHERE sc.tenant_id = t AND sc.run_id = p_run_id;
    DELETE FROM etl.stage_days sd WHERE sd.tenant_id = t AND sd.run_id = p_run_id;
    DELETE FROM etl.stage_ids si WHERE si.tenant_id = t AND si.run_id = p_run_id;
END
$$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION etl.merge_run(p_run_id bigint) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog'
    SET jit TO 'off'
    SET work_mem TO '64MB'
    AS $$
DECLARE
    t          bigint := app.current_tenant_id();
    s          app.tenant_settings;
    rules      etl.funnel_rules;
    tz         text;
    w          etl.watermarks;
    rebuild    boolean;
    has_regex  boolean;
    v_gone     integer[];
    v_days     date[];
    v_del      integer;
    v_max      timestamptz;
    v_now      timestamptz;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.merge_run: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.merge_run: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    rules := etl.funnel_rules(s);
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    SELECT * INTO w FROM etl.watermarks wm WHERE wm.tenant_id = t;
    -- Rebuild history when the timezone or the rules differ from what the stored rows used
    -- (no watermark yet but rows present that this run did not write: unknown, so rebuild too;
    -- rows this run wrote carry loaded_at = now(), the transaction's start).
    IF w.tenant_id IS NULL THEN
        rebuild := EXISTS (SELECT FROM analytics.conversations c WHERE c.tenant_id = t AND c.loaded_at <> now());
    ELSE
        rebuild := w.timezone IS DISTINCT FROM tz OR w.rules_version IS DISTINCT FROM s.rules_version;
    END IF;
    -- Contact texts are only gathered when a rule has a regular expression.
    has_regex := s.lead_regex IS NOT NULL OR s.visit_regex IS NOT NULL OR s.converted_regex IS NOT NULL;

    -- Stored conversations gone from the source (deleted, or their inbox no longer the tenant's).
    -- EXCEPT hashes both sides: staging is never analysed (the loader does not own it), so a
    -- correlated NOT EXISTS can be planned as a nested loop over mis-estimated rows and take
    -- minutes on a large tenant.
    v_gone := ARRAY(
        SELECT c.conversation_id FROM analytics.conversations c WHERE c.tenant_id = t
        EXCEPT
        SELECT si.conversation_id FROM etl.stage_ids si WHERE si.tenant_id = t AND si.run_id = p_run_id);

    -- Days that lose rows: current days of conversations about to disappear.
    INSERT INTO etl.stage_days (tenant_id, run_id, day)
    SELECT DISTINCT c.tenant_id, p_run_id, c.created_day
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_gone));

    -- Reconcile deletions and inbox remapping: gone from the tenant's inboxes means gone here,
    -- with its transcript (no foreign key cascades it: see analytics.transcripts).
    v_del := cardinality(v_gone);
    IF v_del > 0 THEN
        DELETE FROM analytics.transcripts tr
        WHERE tr.tenant_id = t AND tr.conversation_id IN (SELECT unnest(v_gone));
        DELETE FROM analytics.conversations c
        WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_gone));
    END IF;

    v_days := ARRAY(SELECT DISTINCT sd.day FROM etl.stage_days sd WHERE sd.tenant_id = t AND sd.run_id = p_run_id);

    IF rebuild THEN
        -- Timezone, funnel rules, exclusion labels or SLA target changed: recompute from stored
        -- data, no source read.
        WITH cur AS (
            SELECT c.conversation_id,
                   (c.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN
                       etl.funnel_stage(rules, c.labels,
                           coalesce((SELECT analytics.contact_texts(tr.message_senders, tr.message_contents)
                                     FROM analytics.transcripts tr
                                     WHERE tr.tenant_id = t AND tr.conversation_id = c.conversation_id), '{}'),
                           c.contact_messages)
                   ELSE etl.funnel_stage_labels(rules, c.labels, c.contact_messages) END AS stage
            FROM analytics.conversations c
            WHERE c.tenant_id = t
        )
        UPDATE analytics.conversations c
        SET created_day = cur.local_created::date,
            created_hour = extract(hour FROM cur.local_created)::smallint,
            created_dow = extract(dow FROM cur.local_created)::smallint,
            is_lead = cur.stage >= 1, is_visit = cur.stage >= 2, is_converted = cur.stage >= 3
        FROM cur
        WHERE c.tenant_id = t AND c.conversation_id = cur.conversation_id
          AND (c.created_day, c.created_hour, c.created_dow, c.is_lead, c.is_visit, c.is_converted)
              IS DISTINCT FROM (cur.local_created::date, extract(hour FROM cur.local_created)::smallint,
                                extract(dow FROM cur.local_created)::smallint,
                                cur.stage >= 1, cur.stage >= 2, cur.stage >= 3);
        -- Business time and SLA instants (the tenant's timezone applies to inboxes without one).
        PERFORM etl.apply_business_hours(p_run_id, NULL);
        PERFORM etl.refresh_daily_stats(NULL);
    ELSIF cardinality(v_days) > 0 THEN
        PERFORM etl.refresh_daily_stats(v_days);
    END IF;

    SELECT max(si.updated_at) INTO v_max FROM etl.stage_ids si WHERE si.tenant_id = t AND si.run_id = p_run_id;

    -- Citus refuses a volatile function in an UPDATE of a distributed table: the clock is read once.
    v_now := clock_timestamp();
    UPDATE etl.runs r
    SET status = 'succeeded', finished_at = v_now, deleted = v_del
    WHERE r.tenant_id = t AND r.id = p_run_id;

    INSERT INTO etl.watermarks AS wm (tenant_id, source_updated_at, last_success_at, last_run_id, updated_at, timezone, rules_version, reread_all)
    VALUES (t, v_max, v_now, p_run_id, v_now, tz, s.rules_version, false)
    ON CONFLICT (tenant_id) DO UPDATE SET
        source_updated_at = greatest(wm.source_updated_at, EXCLUDED.source_updated_at),
        last_success_at = EXCLUDED.last_success_at, last_run_id = EXCLUDED.last_run_id,
        updated_at = EXCLUDED.updated_at, timezone = EXCLUDED.timezone, rules_version = EXCLUDED.rules_version,
        reread_all = false;

    -- Staging never outlives the transaction that filled it.
    DELETE FROM etl.stage_conversations sc WHERE sc.tenant_id = t AND sc.run_id = p_run_id;
    DELETE FROM etl.stage_days sd WHERE sd.tenant_id = t AND sd.run_id = p_run_id;
    DELETE FROM etl.stage_ids si WHERE si.tenant_id = t AND si.run_id = p_run_id;
END
$$;
