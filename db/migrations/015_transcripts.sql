-- Transcripts as one row per conversation (docs/adr/008-transcript-per-conversation.md).
-- analytics.messages held one row per public message: a full load wrote every message twice
-- (COPY into etl.stage_messages, then INSERT under row-level security, which COPY cannot target)
-- and paid a row header and a primary-key entry for each, the largest cost of loading after the
-- source query. A transcript is only ever read whole (the conversation page, funnel rules
-- re-applied from stored history), so it is now one row of parallel arrays, oldest message
-- first, staged in the conversation's own staging row. One row per conversation, also for a
-- conversation without public messages (empty arrays).

-- analytics.contact_texts is what a funnel rule's regular expression sees of a transcript: the
-- texts of the contact's messages (DESIGN §5). The merge applies it to the staged transcript, a
-- rebuild of history to the stored one.
CREATE FUNCTION analytics.contact_texts(senders text[], contents text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(array_agg(m.content ORDER BY m.n), '{}')
    FROM unnest(senders, contents) WITH ORDINALITY AS m(sender, content, n)
    WHERE m.sender = 'contact'
$$;
COMMENT ON FUNCTION analytics.contact_texts(text[], text[]) IS 'Texts of the contact''s messages of a transcript (parallel senders and contents arrays), in order; what funnel regular expressions match.';
GRANT EXECUTE ON FUNCTION analytics.contact_texts(text[], text[]) TO geniai_etl;

CREATE TABLE analytics.transcripts (
    tenant_id          bigint        NOT NULL,
    conversation_id    integer       NOT NULL,
    message_ids        integer[]     NOT NULL,
    message_created_at timestamptz[] NOT NULL,
    message_senders    text[]        NOT NULL,
    message_types      smallint[]    NOT NULL,
    message_contents   text[]        NOT NULL,
    message_deleted    boolean[]     NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id),
    CONSTRAINT transcripts_parallel CHECK (
        coalesce(array_ndims(message_ids), 1) = 1
        AND cardinality(message_created_at) = cardinality(message_ids)
        AND cardinality(message_senders) = cardinality(message_ids)
        AND cardinality(message_types) = cardinality(message_ids)
        AND cardinality(message_contents) = cardinality(message_ids)
        AND cardinality(message_deleted) = cardinality(message_ids)),
    CONSTRAINT transcripts_senders CHECK (message_senders <@ ARRAY['contact', 'bot', 'human', 'system']),
    CONSTRAINT transcripts_types CHECK (message_types <@ ARRAY[0, 1, 2, 3]::smallint[])
);
COMMENT ON TABLE analytics.transcripts IS 'Public transcript of each conversation (private notes are never loaded): one row per conversation, its messages as parallel arrays, oldest first (created_at, then id). Written only by etl.merge_chunk; no foreign key (the writer keeps one row per conversation, and removes it with its conversation).';
COMMENT ON COLUMN analytics.transcripts.message_senders IS 'Per message: contact (incoming), bot (AgentBot, Captain::Assistant), human (User), system (activity, template, other senders).';
COMMENT ON COLUMN analytics.transcripts.message_types IS 'Per message: Chatwoot message_type, 0 incoming, 1 outgoing, 2 activity, 3 template.';
COMMENT ON COLUMN analytics.transcripts.message_deleted IS 'Per message: deleted in Chatwoot (content_attributes.deleted); still counts in metrics, shown as deleted.';

-- Conversations loaded before this migration: their transcripts, from analytics.messages. The
-- owner is subject to row-level security (FORCE) and has no policy; lifting FORCE inside this
-- transaction is invisible to others, and the new table's security is switched on after.
ALTER TABLE analytics.conversations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.messages NO FORCE ROW LEVEL SECURITY;
INSERT INTO analytics.transcripts (tenant_id, conversation_id, message_ids, message_created_at, message_senders,
                                   message_types, message_contents, message_deleted)
SELECT c.tenant_id, c.conversation_id,
       coalesce(m.ids, '{}'), coalesce(m.created_at, '{}'), coalesce(m.senders, '{}'),
       coalesce(m.types, '{}'), coalesce(m.contents, '{}'), coalesce(m.deleted, '{}')
FROM analytics.conversations c
LEFT JOIN (SELECT m.tenant_id, m.conversation_id,
                  array_agg(m.message_id ORDER BY m.created_at, m.message_id) AS ids,
                  array_agg(m.created_at ORDER BY m.created_at, m.message_id) AS created_at,
                  array_agg(m.sender ORDER BY m.created_at, m.message_id) AS senders,
                  array_agg(m.message_type ORDER BY m.created_at, m.message_id) AS types,
                  array_agg(m.content ORDER BY m.created_at, m.message_id) AS contents,
                  array_agg(m.deleted ORDER BY m.created_at, m.message_id) AS deleted
           FROM analytics.messages m
           GROUP BY m.tenant_id, m.conversation_id) m
    ON m.tenant_id = c.tenant_id AND m.conversation_id = c.conversation_id;
ALTER TABLE analytics.conversations FORCE ROW LEVEL SECURITY;

ALTER TABLE analytics.transcripts ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.transcripts FORCE ROW LEVEL SECURITY;
CREATE POLICY transcripts_tenant_read ON analytics.transcripts FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY transcripts_staff_read ON analytics.transcripts FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY transcripts_etl_all ON analytics.transcripts FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON analytics.transcripts TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT, DELETE ON analytics.transcripts TO geniai_etl;
-- Every column but the key is updatable by the loader; tenant_id never is.
GRANT UPDATE (message_ids, message_created_at, message_senders, message_types, message_contents, message_deleted)
    ON analytics.transcripts TO geniai_etl;

-- squawk-ignore ban-drop-table
DROP TABLE analytics.messages;

-- Staging: the transcript travels in its conversation's staging row.
-- squawk-ignore ban-drop-table
DROP TABLE etl.stage_messages;
-- squawk-ignore ban-drop-column
ALTER TABLE etl.stage_conversations DROP COLUMN contact_texts;
ALTER TABLE etl.stage_conversations
    ADD COLUMN message_ids integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN message_created_at timestamptz[] NOT NULL DEFAULT '{}',
    ADD COLUMN message_senders text[] NOT NULL DEFAULT '{}',
    ADD COLUMN message_types smallint[] NOT NULL DEFAULT '{}',
    ADD COLUMN message_contents text[] NOT NULL DEFAULT '{}',
    ADD COLUMN message_deleted boolean[] NOT NULL DEFAULT '{}';
-- A staging row lives for one transaction: rows up to a page stay whole (no compression and no
-- TOAST table for a long transcript; the default moves rows over 2 kB out of line).
ALTER TABLE etl.stage_conversations SET (toast_tuple_target = 8160);
COMMENT ON COLUMN etl.stage_conversations.message_ids IS 'The public transcript (message_* arrays, parallel, oldest first), grouped and ordered by internal/etl; analytics.transcripts to be.';

COMMENT ON COLUMN etl.runs.messages IS 'Transcript messages the run wrote: every message of a new conversation, and for a stored one each staged message its stored transcript lacked or held otherwise.';

CREATE OR REPLACE FUNCTION etl.merge_chunk(p_run_id bigint, p_chunk integer)
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    SET work_mem = '64MB'
    AS $$
DECLARE
    t          bigint := app.current_tenant_id();
    s          app.tenant_settings;
    tz         text;
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
    SELECT count(*)::integer INTO v_extract FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk;
    IF v_extract = 0 THEN
        RETURN;
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    -- Contact texts are only gathered when a rule has a regular expression.
    has_regex := s.lead_regex IS NOT NULL OR s.visit_regex IS NOT NULL OR s.converted_regex IS NOT NULL;

    -- Extracted conversations already stored: only these are compared and can lose messages;
    -- every other extracted conversation (all of them on a first load) is a plain INSERT.
    -- One primary-key probe per staged row, whatever the statistics say: during a first load the
    -- tenant's rows are all new, its statistics say it has none, and a join planned from that side
    -- rescans the chunk for every row already inserted (minutes per chunk on a large tenant).
    v_existing := etl.stored_conversations(t, ARRAY(
        SELECT sc.conversation_id FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk));

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
        -- tenant's timezone, DESIGN §5 flags, funnel stage) are computed once: stored conversations
        -- are rewritten only when something differs; new ones (all of a first load) are plain INSERTs.
        -- The transcript and search words arrive grouped per conversation (internal/etl), in the
        -- conversation's staging row: staging is never analysed, and a grouped join of staged
        -- messages planned from its estimates re-aggregated the whole chunk for every conversation.
        WITH x AS (
            SELECT sc.*,
                   (sc.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN etl.funnel_stage(s, sc.labels, analytics.contact_texts(sc.message_senders, sc.message_contents), sc.contact_messages)
                        ELSE etl.funnel_stage_labels(s, sc.labels, sc.contact_messages) END AS stage,
                   array_to_tsvector(sc.search_words) AS search
            FROM etl.stage_conversations sc
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk
        ), src AS (
            SELECT t AS tenant_id, x.conversation_id, x.account_id, x.inbox_id, x.display_id, x.channel_type,
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
                   now() AS loaded_at, x.search
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
                is_converted = x.is_converted, loaded_at = x.loaded_at, search = x.search
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
                   c.csat_rating, c.csat_at, c.is_lead, c.is_visit, c.is_converted, c.search)
              IS DISTINCT FROM
                  (x.account_id, x.inbox_id, x.display_id, x.channel_type, x.status, x.priority, x.contact_id,
                   x.contact_name, x.contact_phone, x.assignee_id, x.team_id, x.labels, x.created_at,
                   x.source_updated_at, x.last_activity_at, x.created_day, x.created_hour, x.created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at, x.first_reply_seconds, x.first_human_reply_at, x.first_human_reply_seconds,
                   x.last_message_at, x.unanswered, x.resolved, x.handoff, x.bot_resolved, x.resolution_seconds,
                   x.csat_rating, x.csat_at, x.is_lead, x.is_visit, x.is_converted, x.search)
            RETURNING c.created_day
        ), ins AS (
            INSERT INTO analytics.conversations (
                tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type, status, priority,
                contact_id, contact_name, contact_phone, assignee_id, team_id, labels, created_at,
                source_updated_at, last_activity_at, created_day, created_hour, created_dow,
                contact_messages, bot_messages, human_messages, private_notes, first_contact_at,
                first_reply_at, first_reply_seconds, first_human_reply_at, first_human_reply_seconds,
                last_message_at, unanswered, resolved, handoff, bot_resolved, resolution_seconds,
                csat_rating, csat_at, is_lead, is_visit, is_converted, loaded_at, search)
            SELECT x.*
            FROM src x
            WHERE NOT EXISTS (SELECT FROM unnest(v_existing) e WHERE e = x.conversation_id)
            RETURNING created_day
        )
        SELECT (SELECT count(*)::integer FROM ins), (SELECT count(*)::integer FROM up),
               ARRAY(SELECT created_day FROM ins UNION SELECT created_day FROM up) || v_days
        INTO v_ins, v_upd, v_days;

        -- Transcripts of new conversations: plain INSERT, one row each.
        WITH ins AS (
            INSERT INTO analytics.transcripts (tenant_id, conversation_id, message_ids, message_created_at,
                                               message_senders, message_types, message_contents, message_deleted)
            SELECT t, sc.conversation_id, sc.message_ids, sc.message_created_at, sc.message_senders,
                   sc.message_types, sc.message_contents, sc.message_deleted
            FROM etl.stage_conversations sc
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk
              AND NOT EXISTS (SELECT FROM unnest(v_existing) e WHERE e = sc.conversation_id)
            RETURNING cardinality(message_ids) AS n
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
                  WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk AND sc.conversation_id = ANY (v_existing)
                  EXCEPT ALL
                  SELECT tr.conversation_id, m.*
                  FROM analytics.transcripts tr,
                       unnest(tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types,
                              tr.message_contents, tr.message_deleted) AS m(id, created_at, sender, message_type, content, deleted)
                  WHERE tr.tenant_id = t AND tr.conversation_id = ANY (v_existing)) changed;
            v_msgs := v_msgs + v_n;

            INSERT INTO analytics.transcripts AS tr (tenant_id, conversation_id, message_ids, message_created_at,
                                                     message_senders, message_types, message_contents, message_deleted)
            SELECT t, sc.conversation_id, sc.message_ids, sc.message_created_at, sc.message_senders,
                   sc.message_types, sc.message_contents, sc.message_deleted
            FROM etl.stage_conversations sc
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk AND sc.conversation_id = ANY (v_existing)
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

    INSERT INTO etl.stage_days (run_id, day)
    SELECT DISTINCT p_run_id, d FROM unnest(v_days) d WHERE d IS NOT NULL;

    UPDATE etl.runs r
    SET extracted = r.extracted + v_extract, inserted = r.inserted + v_ins, updated = r.updated + v_upd,
        messages = r.messages + v_msgs
    WHERE r.tenant_id = t AND r.id = p_run_id;
END
$$;
COMMENT ON FUNCTION etl.merge_chunk(bigint, integer) IS
    'Merges one staged chunk of a running run of the current tenant (conversations, one transcript row each, counts on etl.runs, affected days in etl.stage_days); etl.merge_run completes the run.';

CREATE OR REPLACE FUNCTION etl.merge_run(p_run_id bigint)
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    SET work_mem = '64MB'
    AS $$
DECLARE
    t          bigint := app.current_tenant_id();
    s          app.tenant_settings;
    tz         text;
    w          etl.watermarks;
    rebuild    boolean;
    has_regex  boolean;
    v_gone     integer[];
    v_days     date[];
    v_del      integer;
    v_max      timestamptz;
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
        SELECT si.conversation_id FROM etl.stage_ids si WHERE si.run_id = p_run_id);

    -- Days that lose rows: current days of conversations about to disappear.
    INSERT INTO etl.stage_days (run_id, day)
    SELECT DISTINCT p_run_id, c.created_day
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

    v_days := ARRAY(SELECT DISTINCT sd.day FROM etl.stage_days sd WHERE sd.run_id = p_run_id);

    IF rebuild THEN
        -- Timezone or funnel rules changed: recompute from stored data, no source read.
        WITH cur AS (
            SELECT c.conversation_id,
                   (c.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN
                       etl.funnel_stage(s, c.labels,
                           coalesce((SELECT analytics.contact_texts(tr.message_senders, tr.message_contents)
                                     FROM analytics.transcripts tr
                                     WHERE tr.tenant_id = t AND tr.conversation_id = c.conversation_id), '{}'),
                           c.contact_messages)
                   ELSE etl.funnel_stage_labels(s, c.labels, c.contact_messages) END AS stage
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
        PERFORM etl.refresh_daily_stats(NULL);
    ELSIF cardinality(v_days) > 0 THEN
        PERFORM etl.refresh_daily_stats(v_days);
    END IF;

    SELECT max(si.updated_at) INTO v_max FROM etl.stage_ids si WHERE si.run_id = p_run_id;

    UPDATE etl.runs r
    SET status = 'succeeded', finished_at = clock_timestamp(), deleted = v_del
    WHERE r.tenant_id = t AND r.id = p_run_id;

    INSERT INTO etl.watermarks AS wm (tenant_id, source_updated_at, last_success_at, last_run_id, updated_at, timezone, rules_version)
    VALUES (t, v_max, clock_timestamp(), p_run_id, clock_timestamp(), tz, s.rules_version)
    ON CONFLICT (tenant_id) DO UPDATE SET
        source_updated_at = greatest(wm.source_updated_at, EXCLUDED.source_updated_at),
        last_success_at = EXCLUDED.last_success_at, last_run_id = EXCLUDED.last_run_id,
        updated_at = EXCLUDED.updated_at, timezone = EXCLUDED.timezone, rules_version = EXCLUDED.rules_version;

    -- Staging never outlives the transaction that filled it.
    DELETE FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id;
    DELETE FROM etl.stage_days sd WHERE sd.run_id = p_run_id;
    DELETE FROM etl.stage_ids si WHERE si.run_id = p_run_id;
END
$$;
COMMENT ON FUNCTION etl.merge_run(bigint) IS
    'Applies a staged run of the current tenant in the caller''s transaction: upsert conversations and transcripts, funnel, deletions, daily rollups of affected days, run counts (on etl.runs) and watermark.';

---- create above / drop below ----

CREATE TABLE analytics.messages (
    tenant_id       bigint      NOT NULL,
    conversation_id integer     NOT NULL,
    message_id      integer     NOT NULL,
    created_at      timestamptz NOT NULL,
    sender          text        NOT NULL CHECK (sender IN ('contact', 'bot', 'human', 'system')),
    message_type    smallint    NOT NULL CHECK (message_type BETWEEN 0 AND 3),
    content         text        NOT NULL DEFAULT '',
    deleted         boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, conversation_id, message_id)
);
COMMENT ON TABLE analytics.messages IS 'Public transcript of each conversation (private notes are never loaded).';
COMMENT ON COLUMN analytics.messages.sender IS 'contact (incoming), bot (AgentBot, Captain::Assistant), human (User), system (activity, template, other senders).';
COMMENT ON COLUMN analytics.messages.message_type IS 'Chatwoot message_type: 0 incoming, 1 outgoing, 2 activity, 3 template.';
COMMENT ON COLUMN analytics.messages.deleted IS 'Deleted in Chatwoot (content_attributes.deleted); still counts in metrics, shown as deleted.';
ALTER TABLE analytics.transcripts NO FORCE ROW LEVEL SECURITY;
INSERT INTO analytics.messages (tenant_id, conversation_id, message_id, created_at, sender, message_type, content, deleted)
SELECT tr.tenant_id, tr.conversation_id, m.id, m.created_at, m.sender, m.message_type, m.content, m.deleted
FROM analytics.transcripts tr,
     unnest(tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types, tr.message_contents,
            tr.message_deleted) AS m(id, created_at, sender, message_type, content, deleted);
ALTER TABLE analytics.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.messages FORCE ROW LEVEL SECURITY;
CREATE POLICY messages_tenant_read ON analytics.messages FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY messages_staff_read ON analytics.messages FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY messages_etl_all ON analytics.messages FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON analytics.messages TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT, DELETE ON analytics.messages TO geniai_etl;
GRANT UPDATE (created_at, sender, message_type, content, deleted) ON analytics.messages TO geniai_etl;

CREATE UNLOGGED TABLE etl.stage_messages (
    run_id          bigint      NOT NULL,
    chunk           integer     NOT NULL,
    conversation_id integer     NOT NULL,
    message_id      integer     NOT NULL,
    created_at      timestamptz NOT NULL,
    sender          text        NOT NULL,
    message_type    smallint    NOT NULL,
    content         text        NOT NULL,
    deleted         boolean     NOT NULL
);
COMMENT ON TABLE etl.stage_messages IS 'Staging: public messages (transcript) of the conversations in etl.stage_conversations for one run.';
CREATE INDEX stage_messages_chunk_idx ON etl.stage_messages (run_id, chunk);
REVOKE ALL ON etl.stage_messages FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON etl.stage_messages TO geniai_etl;
ALTER TABLE etl.stage_conversations
    DROP COLUMN message_ids, DROP COLUMN message_created_at, DROP COLUMN message_senders,
    DROP COLUMN message_types, DROP COLUMN message_contents, DROP COLUMN message_deleted,
    ADD COLUMN contact_texts text[] NOT NULL DEFAULT '{}';
ALTER TABLE etl.stage_conversations RESET (toast_tuple_target);
COMMENT ON COLUMN etl.stage_conversations.contact_texts IS 'Texts of the contact''s public messages, for funnel rules with a regular expression (grouped by the ETL: a grouped join over never-analysed staging is a planner trap).';

COMMENT ON COLUMN etl.runs.messages IS NULL;

CREATE OR REPLACE FUNCTION etl.merge_chunk(p_run_id bigint, p_chunk integer)
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    SET work_mem = '64MB'
    AS $$
DECLARE
    t          bigint := app.current_tenant_id();
    s          app.tenant_settings;
    tz         text;
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
    SELECT count(*)::integer INTO v_extract FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk;
    IF v_extract = 0 THEN
        RETURN;
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    -- Contact texts are only gathered when a rule has a regular expression.
    has_regex := s.lead_regex IS NOT NULL OR s.visit_regex IS NOT NULL OR s.converted_regex IS NOT NULL;

    -- Extracted conversations already stored: only these are compared and can lose messages;
    -- every other extracted conversation (all of them on a first load) is a plain INSERT.
    -- One primary-key probe per staged row, whatever the statistics say: during a first load the
    -- tenant's rows are all new, its statistics say it has none, and a join planned from that side
    -- rescans the chunk for every row already inserted (minutes per chunk on a large tenant).
    v_existing := etl.stored_conversations(t, ARRAY(
        SELECT sc.conversation_id FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk));

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
        -- tenant's timezone, DESIGN §5 flags, funnel stage) are computed once: stored conversations
        -- are rewritten only when something differs; new ones (all of a first load) are plain INSERTs.
        -- Contact texts and search words arrive grouped per conversation (internal/etl): staging
        -- is never analysed, and a grouped join of stage_messages planned from its estimates
        -- re-aggregated the whole chunk for every conversation (minutes per chunk).
        WITH x AS (
            SELECT sc.*,
                   (sc.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN etl.funnel_stage(s, sc.labels, sc.contact_texts, sc.contact_messages)
                        ELSE etl.funnel_stage_labels(s, sc.labels, sc.contact_messages) END AS stage,
                   array_to_tsvector(sc.search_words) AS search
            FROM etl.stage_conversations sc
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk
        ), src AS (
            SELECT t AS tenant_id, x.conversation_id, x.account_id, x.inbox_id, x.display_id, x.channel_type,
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
                   now() AS loaded_at, x.search
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
                is_converted = x.is_converted, loaded_at = x.loaded_at, search = x.search
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
                   c.csat_rating, c.csat_at, c.is_lead, c.is_visit, c.is_converted, c.search)
              IS DISTINCT FROM
                  (x.account_id, x.inbox_id, x.display_id, x.channel_type, x.status, x.priority, x.contact_id,
                   x.contact_name, x.contact_phone, x.assignee_id, x.team_id, x.labels, x.created_at,
                   x.source_updated_at, x.last_activity_at, x.created_day, x.created_hour, x.created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at, x.first_reply_seconds, x.first_human_reply_at, x.first_human_reply_seconds,
                   x.last_message_at, x.unanswered, x.resolved, x.handoff, x.bot_resolved, x.resolution_seconds,
                   x.csat_rating, x.csat_at, x.is_lead, x.is_visit, x.is_converted, x.search)
            RETURNING c.created_day
        ), ins AS (
            INSERT INTO analytics.conversations (
                tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type, status, priority,
                contact_id, contact_name, contact_phone, assignee_id, team_id, labels, created_at,
                source_updated_at, last_activity_at, created_day, created_hour, created_dow,
                contact_messages, bot_messages, human_messages, private_notes, first_contact_at,
                first_reply_at, first_reply_seconds, first_human_reply_at, first_human_reply_seconds,
                last_message_at, unanswered, resolved, handoff, bot_resolved, resolution_seconds,
                csat_rating, csat_at, is_lead, is_visit, is_converted, loaded_at, search)
            SELECT x.*
            FROM src x
            WHERE NOT EXISTS (SELECT FROM unnest(v_existing) e WHERE e = x.conversation_id)
            RETURNING created_day
        )
        SELECT (SELECT count(*)::integer FROM ins), (SELECT count(*)::integer FROM up),
               ARRAY(SELECT created_day FROM ins UNION SELECT created_day FROM up) || v_days
        INTO v_ins, v_upd, v_days;

        -- Transcripts of new conversations: plain INSERT.
        INSERT INTO analytics.messages (tenant_id, conversation_id, message_id, created_at, sender, message_type, content, deleted)
        SELECT t, sm.conversation_id, sm.message_id, sm.created_at, sm.sender, sm.message_type, sm.content, sm.deleted
        FROM etl.stage_messages sm
        WHERE sm.run_id = p_run_id AND sm.chunk = p_chunk
          AND NOT EXISTS (SELECT FROM unnest(v_existing) e WHERE e = sm.conversation_id);
        GET DIAGNOSTICS v_msgs = ROW_COUNT;

        IF cardinality(v_existing) > 0 THEN
            -- Transcripts of stored conversations: upsert changed messages, drop vanished ones.
            WITH up AS (
                INSERT INTO analytics.messages AS am (tenant_id, conversation_id, message_id, created_at, sender, message_type, content, deleted)
                SELECT t, sm.conversation_id, sm.message_id, sm.created_at, sm.sender, sm.message_type, sm.content, sm.deleted
                FROM etl.stage_messages sm
                WHERE sm.run_id = p_run_id AND sm.chunk = p_chunk
                  AND sm.conversation_id IN (SELECT unnest(v_existing))
                ON CONFLICT (tenant_id, conversation_id, message_id) DO UPDATE SET
                    created_at = EXCLUDED.created_at, sender = EXCLUDED.sender, message_type = EXCLUDED.message_type,
                    content = EXCLUDED.content, deleted = EXCLUDED.deleted
                WHERE (am.created_at, am.sender, am.message_type, am.content, am.deleted)
                      IS DISTINCT FROM (EXCLUDED.created_at, EXCLUDED.sender, EXCLUDED.message_type, EXCLUDED.content, EXCLUDED.deleted)
                RETURNING 1
            )
            SELECT count(*)::integer INTO v_n FROM up;
            v_msgs := v_msgs + v_n;

            -- EXCEPT hashes both sides (staging is indexed by chunk only and never analysed).
            DELETE FROM analytics.messages am
            USING (SELECT m.conversation_id, m.message_id FROM analytics.messages m
                   WHERE m.tenant_id = t AND m.conversation_id = ANY (v_existing)
                   EXCEPT
                   SELECT sm.conversation_id, sm.message_id FROM etl.stage_messages sm
                   WHERE sm.run_id = p_run_id AND sm.chunk = p_chunk) gone
            WHERE am.tenant_id = t AND am.conversation_id = gone.conversation_id AND am.message_id = gone.message_id;
        END IF;
    END;

    INSERT INTO etl.stage_days (run_id, day)
    SELECT DISTINCT p_run_id, d FROM unnest(v_days) d WHERE d IS NOT NULL;

    UPDATE etl.runs r
    SET extracted = r.extracted + v_extract, inserted = r.inserted + v_ins, updated = r.updated + v_upd,
        messages = r.messages + v_msgs
    WHERE r.tenant_id = t AND r.id = p_run_id;
END
$$;
COMMENT ON FUNCTION etl.merge_chunk(bigint, integer) IS
    'Merges one staged chunk of a running run of the current tenant (conversations, transcripts, counts on etl.runs, affected days in etl.stage_days); etl.merge_run completes the run.';

CREATE OR REPLACE FUNCTION etl.merge_run(p_run_id bigint)
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    SET work_mem = '64MB'
    AS $$
DECLARE
    t          bigint := app.current_tenant_id();
    s          app.tenant_settings;
    tz         text;
    w          etl.watermarks;
    rebuild    boolean;
    has_regex  boolean;
    v_gone     integer[];
    v_days     date[];
    v_del      integer;
    v_max      timestamptz;
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
        SELECT si.conversation_id FROM etl.stage_ids si WHERE si.run_id = p_run_id);

    -- Days that lose rows: current days of conversations about to disappear.
    INSERT INTO etl.stage_days (run_id, day)
    SELECT DISTINCT p_run_id, c.created_day
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_gone));

    -- Reconcile deletions and inbox remapping: gone from the tenant's inboxes means gone here,
    -- with its messages (no foreign key cascades them: see analytics.messages above).
    v_del := cardinality(v_gone);
    IF v_del > 0 THEN
        DELETE FROM analytics.messages am
        WHERE am.tenant_id = t AND am.conversation_id IN (SELECT unnest(v_gone));
        DELETE FROM analytics.conversations c
        WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_gone));
    END IF;

    v_days := ARRAY(SELECT DISTINCT sd.day FROM etl.stage_days sd WHERE sd.run_id = p_run_id);

    IF rebuild THEN
        -- Timezone or funnel rules changed: recompute from stored data, no source read.
        WITH cur AS (
            SELECT c.conversation_id,
                   (c.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN
                       etl.funnel_stage(s, c.labels,
                           ARRAY(SELECT am.content FROM analytics.messages am
                                 WHERE am.tenant_id = t AND am.conversation_id = c.conversation_id AND am.sender = 'contact'),
                           c.contact_messages)
                   ELSE etl.funnel_stage_labels(s, c.labels, c.contact_messages) END AS stage
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
        PERFORM etl.refresh_daily_stats(NULL);
    ELSIF cardinality(v_days) > 0 THEN
        PERFORM etl.refresh_daily_stats(v_days);
    END IF;

    SELECT max(si.updated_at) INTO v_max FROM etl.stage_ids si WHERE si.run_id = p_run_id;

    UPDATE etl.runs r
    SET status = 'succeeded', finished_at = clock_timestamp(), deleted = v_del
    WHERE r.tenant_id = t AND r.id = p_run_id;

    INSERT INTO etl.watermarks AS wm (tenant_id, source_updated_at, last_success_at, last_run_id, updated_at, timezone, rules_version)
    VALUES (t, v_max, clock_timestamp(), p_run_id, clock_timestamp(), tz, s.rules_version)
    ON CONFLICT (tenant_id) DO UPDATE SET
        source_updated_at = greatest(wm.source_updated_at, EXCLUDED.source_updated_at),
        last_success_at = EXCLUDED.last_success_at, last_run_id = EXCLUDED.last_run_id,
        updated_at = EXCLUDED.updated_at, timezone = EXCLUDED.timezone, rules_version = EXCLUDED.rules_version;

    -- Staging never outlives the transaction that filled it.
    DELETE FROM etl.stage_messages sm WHERE sm.run_id = p_run_id;
    DELETE FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id;
    DELETE FROM etl.stage_days sd WHERE sd.run_id = p_run_id;
    DELETE FROM etl.stage_ids si WHERE si.run_id = p_run_id;
END
$$;
COMMENT ON FUNCTION etl.merge_run(bigint) IS
    'Applies a staged run of the current tenant in the caller''s transaction: upsert conversations and transcripts, funnel, deletions, daily rollups of affected days, run counts (on etl.runs) and watermark.';

DROP TABLE analytics.transcripts;
DROP FUNCTION analytics.contact_texts(text[], text[]);
