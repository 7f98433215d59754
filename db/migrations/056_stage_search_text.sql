-- The search words travel to staging as one text (the words joined by spaces) instead of a text
-- array. A word is a run of letters and digits (internal/etl), so it never holds a space, and
-- string_to_array gives back exactly the array; but COPY decodes an array element by element, and
-- with about 75 words per conversation that was a sixth of the full load's staging time (and as
-- much again for the loader to encode them).
-- squawk-ignore ban-drop-column
ALTER TABLE etl.stage_conversations DROP COLUMN search_words;
ALTER TABLE etl.stage_conversations ADD COLUMN search_text text NOT NULL DEFAULT '';
COMMENT ON COLUMN etl.stage_conversations.search_text IS 'Distinct folded words of the contact name and incoming messages, then with a leading ~ those only other public messages hold (internal/etl), separated by single spaces: the search document to be.';

CREATE OR REPLACE FUNCTION etl.merge_chunk(p_run_id bigint, p_chunk integer) RETURNS void
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
    sla        integer;
    has_regex  boolean;
    v_existing integer[];
    v_days     date[];
    v_extract  integer;
    v_ins      integer;
    v_upd      integer;
    v_msgs     integer;
    v_n        integer;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.merge_chunk: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.merge_chunk: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT count(*)::integer INTO v_extract FROM etl.stage_conversations sc WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk;
    IF v_extract = 0 THEN
        RETURN;
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    rules := etl.funnel_rules(s);
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    sla := s.sla_seconds;
    -- Contact texts are only gathered when a rule has a regular expression.
    has_regex := s.lead_regex IS NOT NULL OR s.visit_regex IS NOT NULL OR s.converted_regex IS NOT NULL;

    -- Extracted conversations already stored: only these are compared and can lose messages;
    -- every other extracted conversation (all of them on a first load) is a plain INSERT.
    -- One primary-key probe per staged row, whatever the statistics say: during a first load the
    -- tenant's rows are all new, its statistics say it has none, and a join planned from that side
    -- rescans the chunk for every row already inserted (minutes per chunk on a large tenant).
    v_existing := etl.stored_conversations(t, ARRAY(
        SELECT sc.conversation_id FROM etl.stage_conversations sc WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk));

    -- Days that lose rows: current days of stored conversations about to change.
    IF cardinality(v_existing) > 0 THEN
        SELECT array_agg(DISTINCT c.created_day) INTO v_days
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_existing));
    END IF;

    v_ins := 0;
    v_upd := 0;
    v_msgs := 0;
    BEGIN
        -- One statement, so the staged rows and their derived columns (days and hours in the
        -- tenant's timezone, the flags of docs/metrics.md, funnel stage) are computed once: stored conversations
        -- are rewritten only when something differs; new ones (all of a first load) are plain INSERTs.
        -- The transcript and search words arrive grouped per conversation (internal/etl), in the
        -- conversation's staging row: staging is never analysed, and a grouped join of staged
        -- messages planned from its estimates re-aggregated the whole chunk for every conversation.
        -- Business time (docs/metrics.md): each instant's local wall-clock time is computed once
        -- (x is fenced with OFFSET 0, so its columns are not re-expanded into every expression
        -- that reads them), and analytics.business_seconds_at is plain arithmetic on them.
        WITH x AS (
            SELECT sc.*,
                   (sc.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN etl.funnel_stage(rules, sc.labels, analytics.contact_texts(sc.message_senders, sc.message_contents), sc.contact_messages)
                        ELSE etl.funnel_stage_labels(rules, sc.labels, sc.contact_messages) END AS stage,
                   array_to_tsvector(string_to_array(sc.search_text, ' ')) AS search,
                   r.resolved_at, ib.week, h.itz,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.first_contact_at, h.itz) END AS w_first_contact,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.first_reply_at, h.itz) END AS w_first_reply,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.first_human_reply_at, h.itz) END AS w_first_human,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.created_at, h.itz) END AS w_created,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(r.resolved_at, h.itz) END AS w_resolved,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.human_wait_from, h.itz) END AS w_wait_from,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.human_wait_reply_at, h.itz) END AS w_wait_reply,
                   analytics.waiting_since(sc.status, sc.last_contact_at, sc.last_human_at, sc.waiting_contact_at,
                                           sc.handoff_requested_at) AS waiting_since
            FROM etl.stage_conversations sc
            LEFT JOIN analytics.inboxes ib ON ib.tenant_id = t AND ib.inbox_id = sc.inbox_id
            CROSS JOIN LATERAL (SELECT coalesce(ib.timezone, tz) AS itz) h
            CROSS JOIN LATERAL (SELECT CASE WHEN sc.status = 1 THEN coalesce(sc.resolved_event_at, sc.last_activity_at) END AS resolved_at) r
            WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk
            OFFSET 0
        ), src AS (
            SELECT x.tenant_id, x.conversation_id, x.account_id, x.inbox_id, x.display_id, x.channel_type,
                   x.status, x.priority, x.contact_id, x.contact_name, x.contact_phone, x.assignee_id, x.team_id,
                   x.labels, x.created_at, x.updated_at AS source_updated_at, x.last_activity_at,
                   x.local_created::date AS created_day,
                   extract(hour FROM x.local_created)::smallint AS created_hour,
                   extract(dow FROM x.local_created)::smallint AS created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at,
                   extract(epoch FROM x.first_reply_at - x.first_contact_at)::double precision AS first_reply_seconds,
                   x.first_human_reply_at,
                   extract(epoch FROM x.first_human_reply_at - x.first_contact_at)::double precision AS first_human_reply_seconds,
                   x.last_message_at,
                   x.contact_messages > 0 AND x.first_reply_at IS NULL AS unanswered,
                   x.status = 1 AS resolved,
                   x.handoff,
                   x.status = 1 AND x.bot_messages > 0 AND x.human_messages = 0 AS bot_resolved,
                   CASE WHEN x.status = 1 THEN greatest(0, extract(epoch FROM coalesce(x.resolved_event_at, x.last_activity_at) - x.created_at))::double precision END AS resolution_seconds,
                   x.csat_rating, x.csat_at,
                   x.stage >= 1 AS is_lead, x.stage >= 2 AS is_visit, x.stage >= 3 AS is_converted,
                   now() AS loaded_at, x.search,
                   x.handoff_requested_at, x.last_contact_at, x.last_human_at, x.resolved_at,
                   analytics.business_seconds_at(x.first_contact_at, x.first_reply_at, x.w_first_contact, x.w_first_reply, x.itz, x.week) AS first_reply_business_seconds,
                   analytics.business_seconds_at(x.first_contact_at, x.first_human_reply_at, x.w_first_contact, x.w_first_human, x.itz, x.week) AS first_human_reply_business_seconds,
                   analytics.business_seconds_at(x.created_at, x.resolved_at, x.w_created, x.w_resolved, x.itz, x.week) AS resolution_business_seconds,
                   x.human_wait_from, x.human_wait_reply_at,
                   extract(epoch FROM x.human_wait_reply_at - x.human_wait_from)::double precision AS human_wait_seconds,
                   analytics.business_seconds_at(x.human_wait_from, x.human_wait_reply_at, x.w_wait_from, x.w_wait_reply, x.itz, x.week) AS human_wait_business_seconds,
                   CASE WHEN x.human_wait_reply_at IS NULL THEN analytics.business_add(x.human_wait_from, sla, x.itz, x.week) END AS human_wait_due_at,
                   x.waiting_since,
                   analytics.business_add(x.waiting_since, sla, x.itz, x.week) AS waiting_due_at,
                   analytics.window_closes_at(x.channel_type, x.last_contact_at) AS window_closes_at
            FROM x
        ), up AS (
            UPDATE analytics.conversations c SET
                account_id = x.account_id, inbox_id = x.inbox_id, display_id = x.display_id,
                channel_type = x.channel_type, status = x.status, priority = x.priority,
                contact_id = x.contact_id, contact_name = x.contact_name,
                contact_phone = x.contact_phone, assignee_id = x.assignee_id,
                team_id = x.team_id, labels = x.labels, created_at = x.created_at,
                source_updated_at = x.source_updated_at, last_activity_at = x.last_activity_at,
                created_day = x.created_day, created_hour = x.created_hour,
                created_dow = x.created_dow, contact_messages = x.contact_messages,
                bot_messages = x.bot_messages, human_messages = x.human_messages,
                private_notes = x.private_notes, first_contact_at = x.first_contact_at,
                first_reply_at = x.first_reply_at, first_reply_seconds = x.first_reply_seconds,
                first_human_reply_at = x.first_human_reply_at,
                first_human_reply_seconds = x.first_human_reply_seconds,
                last_message_at = x.last_message_at, unanswered = x.unanswered,
                resolved = x.resolved, handoff = x.handoff, bot_resolved = x.bot_resolved,
                resolution_seconds = x.resolution_seconds, csat_rating = x.csat_rating,
                csat_at = x.csat_at, is_lead = x.is_lead, is_visit = x.is_visit,
                is_converted = x.is_converted, loaded_at = x.loaded_at, search = x.search,
                handoff_requested_at = x.handoff_requested_at, last_contact_at = x.last_contact_at,
                last_human_at = x.last_human_at, resolved_at = x.resolved_at,
                first_reply_business_seconds = x.first_reply_business_seconds,
                first_human_reply_business_seconds = x.first_human_reply_business_seconds,
                resolution_business_seconds = x.resolution_business_seconds,
                human_wait_from = x.human_wait_from, human_wait_reply_at = x.human_wait_reply_at,
                human_wait_seconds = x.human_wait_seconds, human_wait_business_seconds = x.human_wait_business_seconds,
                human_wait_due_at = x.human_wait_due_at, waiting_since = x.waiting_since,
                waiting_due_at = x.waiting_due_at, window_closes_at = x.window_closes_at
            FROM src x
            -- = ANY (v_existing): the rows to compare are known; a first load compares none, and
            -- the planner cannot drive the join from this tenant's mis-estimated fresh rows.
            -- cardinality first: a constant condition, so a first load skips the join entirely.
            WHERE cardinality(v_existing) > 0
              AND c.tenant_id = t AND c.conversation_id = ANY (v_existing) AND c.conversation_id = x.conversation_id
              AND (c.account_id, c.inbox_id, c.display_id, c.channel_type, c.status, c.priority, c.contact_id,
                   c.contact_name, c.contact_phone, c.assignee_id, c.team_id, c.labels, c.created_at,
                   c.source_updated_at, c.last_activity_at, c.created_day, c.created_hour, c.created_dow,
                   c.contact_messages, c.bot_messages, c.human_messages, c.private_notes, c.first_contact_at,
                   c.first_reply_at, c.first_reply_seconds, c.first_human_reply_at, c.first_human_reply_seconds,
                   c.last_message_at, c.unanswered, c.resolved, c.handoff, c.bot_resolved, c.resolution_seconds,
                   c.csat_rating, c.csat_at, c.is_lead, c.is_visit, c.is_converted, c.search,
                   c.handoff_requested_at, c.last_contact_at, c.last_human_at, c.resolved_at,
                   c.first_reply_business_seconds, c.first_human_reply_business_seconds, c.resolution_business_seconds,
                   c.human_wait_from, c.human_wait_reply_at, c.human_wait_seconds, c.human_wait_business_seconds,
                   c.human_wait_due_at, c.waiting_since, c.waiting_due_at, c.window_closes_at)
              IS DISTINCT FROM
                  (x.account_id, x.inbox_id, x.display_id, x.channel_type, x.status, x.priority, x.contact_id,
                   x.contact_name, x.contact_phone, x.assignee_id, x.team_id, x.labels, x.created_at,
                   x.source_updated_at, x.last_activity_at, x.created_day, x.created_hour, x.created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at, x.first_reply_seconds, x.first_human_reply_at, x.first_human_reply_seconds,
                   x.last_message_at, x.unanswered, x.resolved, x.handoff, x.bot_resolved, x.resolution_seconds,
                   x.csat_rating, x.csat_at, x.is_lead, x.is_visit, x.is_converted, x.search,
                   x.handoff_requested_at, x.last_contact_at, x.last_human_at, x.resolved_at,
                   x.first_reply_business_seconds, x.first_human_reply_business_seconds, x.resolution_business_seconds,
                   x.human_wait_from, x.human_wait_reply_at, x.human_wait_seconds, x.human_wait_business_seconds,
                   x.human_wait_due_at, x.waiting_since, x.waiting_due_at, x.window_closes_at)
            RETURNING c.created_day
        ), ins AS (
            INSERT INTO analytics.conversations AS nc (
                tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type, status, priority,
                contact_id, contact_name, contact_phone, assignee_id, team_id, labels, created_at,
                source_updated_at, last_activity_at, created_day, created_hour, created_dow,
                contact_messages, bot_messages, human_messages, private_notes, first_contact_at,
                first_reply_at, first_reply_seconds, first_human_reply_at, first_human_reply_seconds,
                last_message_at, unanswered, resolved, handoff, bot_resolved, resolution_seconds,
                csat_rating, csat_at, is_lead, is_visit, is_converted, loaded_at, search,
                handoff_requested_at, last_contact_at, last_human_at, resolved_at, first_reply_business_seconds,
                first_human_reply_business_seconds, resolution_business_seconds, human_wait_from, human_wait_reply_at,
                human_wait_seconds, human_wait_business_seconds, human_wait_due_at, waiting_since, waiting_due_at,
                window_closes_at)
            SELECT x.*
            FROM src x
            WHERE x.conversation_id <> ALL (v_existing)
            RETURNING nc.created_day
        )
        SELECT (SELECT count(*)::integer FROM ins), (SELECT count(*)::integer FROM up),
               ARRAY(SELECT created_day FROM ins UNION SELECT created_day FROM up) || v_days
        INTO v_ins, v_upd, v_days;

        -- Transcripts of new conversations: plain INSERT, one row each.
        WITH ins AS (
            INSERT INTO analytics.transcripts AS tr (tenant_id, conversation_id, message_ids, message_created_at,
                                                     message_senders, message_types, message_contents, message_deleted)
            SELECT sc.tenant_id, sc.conversation_id, sc.message_ids, sc.message_created_at, sc.message_senders,
                   sc.message_types, sc.message_contents, sc.message_deleted
            FROM etl.stage_conversations sc
            WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk
              AND sc.conversation_id <> ALL (v_existing)
            RETURNING cardinality(tr.message_ids) AS n
        )
        SELECT coalesce(sum(ins.n), 0)::integer INTO v_msgs FROM ins;

        IF cardinality(v_existing) > 0 THEN
            -- Transcripts of stored conversations: the run counts the staged messages the stored
            -- transcript lacks or holds otherwise (new, edited, deleted in Chatwoot), then the
            -- row is rewritten only if it differs.
            SELECT count(*)::integer INTO v_n
            FROM (SELECT sc.conversation_id, m.*
                  FROM etl.stage_conversations sc,
                       unnest(sc.message_ids, sc.message_created_at, sc.message_senders, sc.message_types,
                              sc.message_contents, sc.message_deleted) AS m(id, created_at, sender, message_type, content, deleted)
                  WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk AND sc.conversation_id = ANY (v_existing)
                  EXCEPT ALL
                  SELECT tr.conversation_id, m.*
                  FROM analytics.transcripts tr,
                       unnest(tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types,
                              tr.message_contents, tr.message_deleted) AS m(id, created_at, sender, message_type, content, deleted)
                  WHERE tr.tenant_id = t AND tr.conversation_id = ANY (v_existing)) changed;
            v_msgs := v_msgs + v_n;

            INSERT INTO analytics.transcripts AS tr (tenant_id, conversation_id, message_ids, message_created_at,
                                                     message_senders, message_types, message_contents, message_deleted)
            SELECT sc.tenant_id, sc.conversation_id, sc.message_ids, sc.message_created_at, sc.message_senders,
                   sc.message_types, sc.message_contents, sc.message_deleted
            FROM etl.stage_conversations sc
            WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk AND sc.conversation_id = ANY (v_existing)
            ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET
                message_ids = EXCLUDED.message_ids, message_created_at = EXCLUDED.message_created_at,
                message_senders = EXCLUDED.message_senders, message_types = EXCLUDED.message_types,
                message_contents = EXCLUDED.message_contents, message_deleted = EXCLUDED.message_deleted
            WHERE (tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types,
                   tr.message_contents, tr.message_deleted)
                  IS DISTINCT FROM (EXCLUDED.message_ids, EXCLUDED.message_created_at, EXCLUDED.message_senders,
                                    EXCLUDED.message_types, EXCLUDED.message_contents, EXCLUDED.message_deleted);
        END IF;
    END;

    INSERT INTO etl.stage_days (tenant_id, run_id, day)
    SELECT DISTINCT t, p_run_id, d FROM unnest(v_days) d WHERE d IS NOT NULL;

    UPDATE etl.runs r
    SET extracted = r.extracted + v_extract, inserted = r.inserted + v_ins, updated = r.updated + v_upd,
        messages = r.messages + v_msgs
    WHERE r.tenant_id = t AND r.id = p_run_id;
END
$$;

---- create above / drop below ----

-- squawk-ignore ban-drop-column
ALTER TABLE etl.stage_conversations DROP COLUMN search_text;
ALTER TABLE etl.stage_conversations ADD COLUMN search_words text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN etl.stage_conversations.search_words IS 'Distinct folded words of the contact name and incoming messages, then with a leading ~ those only other public messages hold (internal/etl), the search document to be.';

CREATE OR REPLACE FUNCTION etl.merge_chunk(p_run_id bigint, p_chunk integer) RETURNS void
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
    sla        integer;
    has_regex  boolean;
    v_existing integer[];
    v_days     date[];
    v_extract  integer;
    v_ins      integer;
    v_upd      integer;
    v_msgs     integer;
    v_n        integer;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.merge_chunk: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.merge_chunk: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT count(*)::integer INTO v_extract FROM etl.stage_conversations sc WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk;
    IF v_extract = 0 THEN
        RETURN;
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    rules := etl.funnel_rules(s);
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    sla := s.sla_seconds;
    -- Contact texts are only gathered when a rule has a regular expression.
    has_regex := s.lead_regex IS NOT NULL OR s.visit_regex IS NOT NULL OR s.converted_regex IS NOT NULL;

    -- Extracted conversations already stored: only these are compared and can lose messages;
    -- every other extracted conversation (all of them on a first load) is a plain INSERT.
    -- One primary-key probe per staged row, whatever the statistics say: during a first load the
    -- tenant's rows are all new, its statistics say it has none, and a join planned from that side
    -- rescans the chunk for every row already inserted (minutes per chunk on a large tenant).
    v_existing := etl.stored_conversations(t, ARRAY(
        SELECT sc.conversation_id FROM etl.stage_conversations sc WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk));

    -- Days that lose rows: current days of stored conversations about to change.
    IF cardinality(v_existing) > 0 THEN
        SELECT array_agg(DISTINCT c.created_day) INTO v_days
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_existing));
    END IF;

    v_ins := 0;
    v_upd := 0;
    v_msgs := 0;
    BEGIN
        -- One statement, so the staged rows and their derived columns (days and hours in the
        -- tenant's timezone, the flags of docs/metrics.md, funnel stage) are computed once: stored conversations
        -- are rewritten only when something differs; new ones (all of a first load) are plain INSERTs.
        -- The transcript and search words arrive grouped per conversation (internal/etl), in the
        -- conversation's staging row: staging is never analysed, and a grouped join of staged
        -- messages planned from its estimates re-aggregated the whole chunk for every conversation.
        -- Business time (docs/metrics.md): each instant's local wall-clock time is computed once
        -- (x is fenced with OFFSET 0, so its columns are not re-expanded into every expression
        -- that reads them), and analytics.business_seconds_at is plain arithmetic on them.
        WITH x AS (
            SELECT sc.*,
                   (sc.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN etl.funnel_stage(rules, sc.labels, analytics.contact_texts(sc.message_senders, sc.message_contents), sc.contact_messages)
                        ELSE etl.funnel_stage_labels(rules, sc.labels, sc.contact_messages) END AS stage,
                   array_to_tsvector(sc.search_words) AS search,
                   r.resolved_at, ib.week, h.itz,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.first_contact_at, h.itz) END AS w_first_contact,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.first_reply_at, h.itz) END AS w_first_reply,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.first_human_reply_at, h.itz) END AS w_first_human,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.created_at, h.itz) END AS w_created,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(r.resolved_at, h.itz) END AS w_resolved,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.human_wait_from, h.itz) END AS w_wait_from,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.human_wait_reply_at, h.itz) END AS w_wait_reply,
                   analytics.waiting_since(sc.status, sc.last_contact_at, sc.last_human_at, sc.waiting_contact_at,
                                           sc.handoff_requested_at) AS waiting_since
            FROM etl.stage_conversations sc
            LEFT JOIN analytics.inboxes ib ON ib.tenant_id = t AND ib.inbox_id = sc.inbox_id
            CROSS JOIN LATERAL (SELECT coalesce(ib.timezone, tz) AS itz) h
            CROSS JOIN LATERAL (SELECT CASE WHEN sc.status = 1 THEN coalesce(sc.resolved_event_at, sc.last_activity_at) END AS resolved_at) r
            WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk
            OFFSET 0
        ), src AS (
            SELECT x.tenant_id, x.conversation_id, x.account_id, x.inbox_id, x.display_id, x.channel_type,
                   x.status, x.priority, x.contact_id, x.contact_name, x.contact_phone, x.assignee_id, x.team_id,
                   x.labels, x.created_at, x.updated_at AS source_updated_at, x.last_activity_at,
                   x.local_created::date AS created_day,
                   extract(hour FROM x.local_created)::smallint AS created_hour,
                   extract(dow FROM x.local_created)::smallint AS created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at,
                   extract(epoch FROM x.first_reply_at - x.first_contact_at)::double precision AS first_reply_seconds,
                   x.first_human_reply_at,
                   extract(epoch FROM x.first_human_reply_at - x.first_contact_at)::double precision AS first_human_reply_seconds,
                   x.last_message_at,
                   x.contact_messages > 0 AND x.first_reply_at IS NULL AS unanswered,
                   x.status = 1 AS resolved,
                   x.handoff,
                   x.status = 1 AND x.bot_messages > 0 AND x.human_messages = 0 AS bot_resolved,
                   CASE WHEN x.status = 1 THEN greatest(0, extract(epoch FROM coalesce(x.resolved_event_at, x.last_activity_at) - x.created_at))::double precision END AS resolution_seconds,
                   x.csat_rating, x.csat_at,
                   x.stage >= 1 AS is_lead, x.stage >= 2 AS is_visit, x.stage >= 3 AS is_converted,
                   now() AS loaded_at, x.search,
                   x.handoff_requested_at, x.last_contact_at, x.last_human_at, x.resolved_at,
                   analytics.business_seconds_at(x.first_contact_at, x.first_reply_at, x.w_first_contact, x.w_first_reply, x.itz, x.week) AS first_reply_business_seconds,
                   analytics.business_seconds_at(x.first_contact_at, x.first_human_reply_at, x.w_first_contact, x.w_first_human, x.itz, x.week) AS first_human_reply_business_seconds,
                   analytics.business_seconds_at(x.created_at, x.resolved_at, x.w_created, x.w_resolved, x.itz, x.week) AS resolution_business_seconds,
                   x.human_wait_from, x.human_wait_reply_at,
                   extract(epoch FROM x.human_wait_reply_at - x.human_wait_from)::double precision AS human_wait_seconds,
                   analytics.business_seconds_at(x.human_wait_from, x.human_wait_reply_at, x.w_wait_from, x.w_wait_reply, x.itz, x.week) AS human_wait_business_seconds,
                   CASE WHEN x.human_wait_reply_at IS NULL THEN analytics.business_add(x.human_wait_from, sla, x.itz, x.week) END AS human_wait_due_at,
                   x.waiting_since,
                   analytics.business_add(x.waiting_since, sla, x.itz, x.week) AS waiting_due_at,
                   analytics.window_closes_at(x.channel_type, x.last_contact_at) AS window_closes_at
            FROM x
        ), up AS (
            UPDATE analytics.conversations c SET
                account_id = x.account_id, inbox_id = x.inbox_id, display_id = x.display_id,
                channel_type = x.channel_type, status = x.status, priority = x.priority,
                contact_id = x.contact_id, contact_name = x.contact_name,
                contact_phone = x.contact_phone, assignee_id = x.assignee_id,
                team_id = x.team_id, labels = x.labels, created_at = x.created_at,
                source_updated_at = x.source_updated_at, last_activity_at = x.last_activity_at,
                created_day = x.created_day, created_hour = x.created_hour,
                created_dow = x.created_dow, contact_messages = x.contact_messages,
                bot_messages = x.bot_messages, human_messages = x.human_messages,
                private_notes = x.private_notes, first_contact_at = x.first_contact_at,
                first_reply_at = x.first_reply_at, first_reply_seconds = x.first_reply_seconds,
                first_human_reply_at = x.first_human_reply_at,
                first_human_reply_seconds = x.first_human_reply_seconds,
                last_message_at = x.last_message_at, unanswered = x.unanswered,
                resolved = x.resolved, handoff = x.handoff, bot_resolved = x.bot_resolved,
                resolution_seconds = x.resolution_seconds, csat_rating = x.csat_rating,
                csat_at = x.csat_at, is_lead = x.is_lead, is_visit = x.is_visit,
                is_converted = x.is_converted, loaded_at = x.loaded_at, search = x.search,
                handoff_requested_at = x.handoff_requested_at, last_contact_at = x.last_contact_at,
                last_human_at = x.last_human_at, resolved_at = x.resolved_at,
                first_reply_business_seconds = x.first_reply_business_seconds,
                first_human_reply_business_seconds = x.first_human_reply_business_seconds,
                resolution_business_seconds = x.resolution_business_seconds,
                human_wait_from = x.human_wait_from, human_wait_reply_at = x.human_wait_reply_at,
                human_wait_seconds = x.human_wait_seconds, human_wait_business_seconds = x.human_wait_business_seconds,
                human_wait_due_at = x.human_wait_due_at, waiting_since = x.waiting_since,
                waiting_due_at = x.waiting_due_at, window_closes_at = x.window_closes_at
            FROM src x
            -- = ANY (v_existing): the rows to compare are known; a first load compares none, and
            -- the planner cannot drive the join from this tenant's mis-estimated fresh rows.
            -- cardinality first: a constant condition, so a first load skips the join entirely.
            WHERE cardinality(v_existing) > 0
              AND c.tenant_id = t AND c.conversation_id = ANY (v_existing) AND c.conversation_id = x.conversation_id
              AND (c.account_id, c.inbox_id, c.display_id, c.channel_type, c.status, c.priority, c.contact_id,
                   c.contact_name, c.contact_phone, c.assignee_id, c.team_id, c.labels, c.created_at,
                   c.source_updated_at, c.last_activity_at, c.created_day, c.created_hour, c.created_dow,
                   c.contact_messages, c.bot_messages, c.human_messages, c.private_notes, c.first_contact_at,
                   c.first_reply_at, c.first_reply_seconds, c.first_human_reply_at, c.first_human_reply_seconds,
                   c.last_message_at, c.unanswered, c.resolved, c.handoff, c.bot_resolved, c.resolution_seconds,
                   c.csat_rating, c.csat_at, c.is_lead, c.is_visit, c.is_converted, c.search,
                   c.handoff_requested_at, c.last_contact_at, c.last_human_at, c.resolved_at,
                   c.first_reply_business_seconds, c.first_human_reply_business_seconds, c.resolution_business_seconds,
                   c.human_wait_from, c.human_wait_reply_at, c.human_wait_seconds, c.human_wait_business_seconds,
                   c.human_wait_due_at, c.waiting_since, c.waiting_due_at, c.window_closes_at)
              IS DISTINCT FROM
                  (x.account_id, x.inbox_id, x.display_id, x.channel_type, x.status, x.priority, x.contact_id,
                   x.contact_name, x.contact_phone, x.assignee_id, x.team_id, x.labels, x.created_at,
                   x.source_updated_at, x.last_activity_at, x.created_day, x.created_hour, x.created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at, x.first_reply_seconds, x.first_human_reply_at, x.first_human_reply_seconds,
                   x.last_message_at, x.unanswered, x.resolved, x.handoff, x.bot_resolved, x.resolution_seconds,
                   x.csat_rating, x.csat_at, x.is_lead, x.is_visit, x.is_converted, x.search,
                   x.handoff_requested_at, x.last_contact_at, x.last_human_at, x.resolved_at,
                   x.first_reply_business_seconds, x.first_human_reply_business_seconds, x.resolution_business_seconds,
                   x.human_wait_from, x.human_wait_reply_at, x.human_wait_seconds, x.human_wait_business_seconds,
                   x.human_wait_due_at, x.waiting_since, x.waiting_due_at, x.window_closes_at)
            RETURNING c.created_day
        ), ins AS (
            INSERT INTO analytics.conversations AS nc (
                tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type, status, priority,
                contact_id, contact_name, contact_phone, assignee_id, team_id, labels, created_at,
                source_updated_at, last_activity_at, created_day, created_hour, created_dow,
                contact_messages, bot_messages, human_messages, private_notes, first_contact_at,
                first_reply_at, first_reply_seconds, first_human_reply_at, first_human_reply_seconds,
                last_message_at, unanswered, resolved, handoff, bot_resolved, resolution_seconds,
                csat_rating, csat_at, is_lead, is_visit, is_converted, loaded_at, search,
                handoff_requested_at, last_contact_at, last_human_at, resolved_at, first_reply_business_seconds,
                first_human_reply_business_seconds, resolution_business_seconds, human_wait_from, human_wait_reply_at,
                human_wait_seconds, human_wait_business_seconds, human_wait_due_at, waiting_since, waiting_due_at,
                window_closes_at)
            SELECT x.*
            FROM src x
            WHERE x.conversation_id <> ALL (v_existing)
            RETURNING nc.created_day
        )
        SELECT (SELECT count(*)::integer FROM ins), (SELECT count(*)::integer FROM up),
               ARRAY(SELECT created_day FROM ins UNION SELECT created_day FROM up) || v_days
        INTO v_ins, v_upd, v_days;

        -- Transcripts of new conversations: plain INSERT, one row each.
        WITH ins AS (
            INSERT INTO analytics.transcripts AS tr (tenant_id, conversation_id, message_ids, message_created_at,
                                                     message_senders, message_types, message_contents, message_deleted)
            SELECT sc.tenant_id, sc.conversation_id, sc.message_ids, sc.message_created_at, sc.message_senders,
                   sc.message_types, sc.message_contents, sc.message_deleted
            FROM etl.stage_conversations sc
            WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk
              AND sc.conversation_id <> ALL (v_existing)
            RETURNING cardinality(tr.message_ids) AS n
        )
        SELECT coalesce(sum(ins.n), 0)::integer INTO v_msgs FROM ins;

        IF cardinality(v_existing) > 0 THEN
            -- Transcripts of stored conversations: the run counts the staged messages the stored
            -- transcript lacks or holds otherwise (new, edited, deleted in Chatwoot), then the
            -- row is rewritten only if it differs.
            SELECT count(*)::integer INTO v_n
            FROM (SELECT sc.conversation_id, m.*
                  FROM etl.stage_conversations sc,
                       unnest(sc.message_ids, sc.message_created_at, sc.message_senders, sc.message_types,
                              sc.message_contents, sc.message_deleted) AS m(id, created_at, sender, message_type, content, deleted)
                  WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk AND sc.conversation_id = ANY (v_existing)
                  EXCEPT ALL
                  SELECT tr.conversation_id, m.*
                  FROM analytics.transcripts tr,
                       unnest(tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types,
                              tr.message_contents, tr.message_deleted) AS m(id, created_at, sender, message_type, content, deleted)
                  WHERE tr.tenant_id = t AND tr.conversation_id = ANY (v_existing)) changed;
            v_msgs := v_msgs + v_n;

            INSERT INTO analytics.transcripts AS tr (tenant_id, conversation_id, message_ids, message_created_at,
                                                     message_senders, message_types, message_contents, message_deleted)
            SELECT sc.tenant_id, sc.conversation_id, sc.message_ids, sc.message_created_at, sc.message_senders,
                   sc.message_types, sc.message_contents, sc.message_deleted
            FROM etl.stage_conversations sc
            WHERE sc.tenant_id = t AND sc.run_id = p_run_id AND sc.chunk = p_chunk AND sc.conversation_id = ANY (v_existing)
            ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET
                message_ids = EXCLUDED.message_ids, message_created_at = EXCLUDED.message_created_at,
                message_senders = EXCLUDED.message_senders, message_types = EXCLUDED.message_types,
                message_contents = EXCLUDED.message_contents, message_deleted = EXCLUDED.message_deleted
            WHERE (tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types,
                   tr.message_contents, tr.message_deleted)
                  IS DISTINCT FROM (EXCLUDED.message_ids, EXCLUDED.message_created_at, EXCLUDED.message_senders,
                                    EXCLUDED.message_types, EXCLUDED.message_contents, EXCLUDED.message_deleted);
        END IF;
    END;

    INSERT INTO etl.stage_days (tenant_id, run_id, day)
    SELECT DISTINCT t, p_run_id, d FROM unnest(v_days) d WHERE d IS NOT NULL;

    UPDATE etl.runs r
    SET extracted = r.extracted + v_extract, inserted = r.inserted + v_ins, updated = r.updated + v_upd,
        messages = r.messages + v_msgs
    WHERE r.tenant_id = t AND r.id = p_run_id;
END
$$;
