-- Message search: one full-text document per conversation instead of a trigram index on every
-- message (docs/adr/007-message-search.md). Loading paid for ~60 trigram entries per message in
-- a GIN index, the largest cost of a full load; a conversation's document holds each distinct
-- word of its public messages and its contact's name once, folded (lower case, no accents), and
-- a search matches word prefixes: "preco agend" finds "Preços ... agendar".

-- analytics.search_fold is the one folding of text for search: lower case, and the accents of
-- Portuguese removed. internal/etl (search.go) folds message texts with the same table before
-- they reach staging; a test holds the two equal.
CREATE FUNCTION analytics.search_fold(s text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(translate(s, 'áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ',
                                     'aaaaaeeeeiiiiooooouuuucnaaaaaeeeeiiiiooooouuuucn')) $$;
COMMENT ON FUNCTION analytics.search_fold(text) IS 'Search folding: Portuguese accents removed (both cases, so it holds under any LC_CTYPE, even C), then lower case; internal/etl folds alike.';
GRANT EXECUTE ON FUNCTION analytics.search_fold(text) TO geniai_tenant, geniai_staff, geniai_etl;

-- analytics.search_document is a conversation's search document: the distinct folded words
-- (runs of letters and digits, at most 100 characters) of its contact's name and public
-- messages. The ETL computes the words itself (internal/etl, search.go) and stages them; this
-- SQL twin builds the documents of rows loaded before this migration, and the test comparing
-- both.
CREATE FUNCTION analytics.search_document(contact_name text, texts text[]) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT w
        FROM (SELECT w, sum(octet_length(w) + 1) OVER (ORDER BY w COLLATE "C") AS used
              FROM (SELECT DISTINCT w
                    FROM regexp_split_to_table(analytics.search_fold(coalesce(contact_name, '') || ' ' || coalesce(array_to_string(texts, ' '), '')),
                                               '[^[:alnum:]]+') w
                    WHERE w <> '' AND length(w) <= 100) words) budget
        -- A tsvector holds at most 1 MB: the first 256 kB of words in byte order, as the ETL keeps.
        WHERE used <= 262144))
$$;
COMMENT ON FUNCTION analytics.search_document(text, text[]) IS 'Search document of a conversation: distinct folded words of the contact name and public messages (the ETL stages the same words, computed in Go).';
GRANT EXECUTE ON FUNCTION analytics.search_document(text, text[]) TO geniai_etl;

ALTER TABLE etl.stage_conversations
    ADD COLUMN search_words text[] NOT NULL DEFAULT '{}',
    ADD COLUMN contact_texts text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN etl.stage_conversations.search_words IS 'Distinct folded words of the contact name and public messages (internal/etl), the search document to be.';
COMMENT ON COLUMN etl.stage_conversations.contact_texts IS 'Texts of the contact''s public messages, for funnel rules with a regular expression (grouped by the ETL: a grouped join over never-analysed staging is a planner trap).';

-- analytics.search_query turns what a person typed into a query: every word (letters and digits,
-- folded) must start a word of the document. NULL when nothing searchable was typed. Only
-- [[:alnum:]] runs reach to_tsquery, so no input can be tsquery syntax.
CREATE FUNCTION analytics.search_query(q text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$
    SELECT CASE WHEN w = '' THEN NULL ELSE to_tsquery('simple', w) END
    FROM (SELECT array_to_string(ARRAY(
              SELECT left(t, 200) || ':*'
              FROM regexp_split_to_table(analytics.search_fold(q), '[^[:alnum:]]+') t
              -- One-character prefixes match nearly every document of every tenant (one GIN
              -- index serves them all): they are left out.
              WHERE length(t) >= 2), ' & ') AS w) words
$$;
COMMENT ON FUNCTION analytics.search_query(text) IS 'Search query from user text: each folded alphanumeric word of 2 or more characters as a prefix, all required; NULL when none.';
GRANT EXECUTE ON FUNCTION analytics.search_query(text) TO geniai_tenant, geniai_staff;

ALTER TABLE analytics.conversations ADD COLUMN search tsvector;
COMMENT ON COLUMN analytics.conversations.search IS 'Search document (analytics.search_document): folded words of the contact name and public messages.';
GRANT UPDATE (search) ON analytics.conversations TO geniai_etl;

-- Conversations loaded before this migration get their document now. The owner is subject to
-- RLS (FORCE) and has no policy; lifting FORCE inside this transaction is invisible to others.
ALTER TABLE analytics.conversations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.messages NO FORCE ROW LEVEL SECURITY;
UPDATE analytics.conversations c
SET search = analytics.search_document(c.contact_name,
    ARRAY(SELECT m.content FROM analytics.messages m
          WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.conversation_id));
ALTER TABLE analytics.conversations FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.messages FORCE ROW LEVEL SECURITY;

CREATE INDEX conversations_search_idx ON analytics.conversations USING gin (search);

DROP INDEX analytics.messages_content_trgm_idx;

CREATE OR REPLACE FUNCTION analytics.conversation_filter(
    p_tenant_id  bigint,
    p_from       date,
    p_to         date,
    p_inboxes    integer[] DEFAULT NULL,
    p_channel    text DEFAULT NULL,
    p_label      text DEFAULT NULL,
    p_status     smallint DEFAULT NULL,
    p_stage      text DEFAULT NULL,
    p_flag       text DEFAULT NULL,
    p_frt_bucket smallint DEFAULT NULL,
    p_dow        smallint DEFAULT NULL,
    p_hour       smallint DEFAULT NULL,
    p_csat       smallint DEFAULT NULL,
    p_search     text DEFAULT NULL)
    RETURNS SETOF analytics.conversations
    LANGUAGE sql STABLE
    AS $$
    SELECT c.*
    FROM analytics.conversations c
    WHERE c.tenant_id = p_tenant_id
      AND c.created_day BETWEEN p_from AND p_to
      AND (p_inboxes IS NULL OR c.inbox_id = ANY (p_inboxes))
      AND (p_channel IS NULL OR c.channel_type = p_channel)
      AND (p_label IS NULL OR c.labels @> ARRAY[p_label])
      AND (p_status IS NULL OR c.status = p_status)
      AND (p_stage IS NULL
           OR (p_stage = 'lead' AND c.is_lead)
           OR (p_stage = 'visit' AND c.is_visit)
           OR (p_stage = 'converted' AND c.is_converted)
           OR (p_stage = 'none' AND NOT c.is_lead))
      AND (p_flag IS NULL
           OR (p_flag = 'unanswered' AND c.unanswered)
           OR (p_flag = 'unanswered_lead' AND c.unanswered AND c.is_lead)
           OR (p_flag = 'replied' AND c.first_reply_seconds IS NOT NULL)
           OR (p_flag = 'human_replied' AND c.first_human_reply_seconds IS NOT NULL)
           OR (p_flag = 'resolved' AND c.resolved)
           OR (p_flag = 'bot_resolved' AND c.bot_resolved)
           OR (p_flag = 'with_bot' AND c.bot_messages > 0)
           OR (p_flag = 'handoff' AND c.handoff)
           OR (p_flag = 'csat' AND c.csat_rating IS NOT NULL)
           OR (p_flag = 'satisfied' AND c.csat_rating >= 4))
      AND (p_frt_bucket IS NULL OR analytics.frt_bucket(c.first_reply_seconds) = p_frt_bucket)
      AND (p_dow IS NULL OR c.created_dow = p_dow)
      AND (p_hour IS NULL OR c.created_hour = p_hour)
      AND (p_csat IS NULL OR c.csat_rating = p_csat)
      AND (p_search IS NULL
           OR c.contact_name ILIKE '%' || analytics.like_escape(p_search) || '%'
           OR (length(regexp_replace(p_search, '\D', '', 'g')) >= 3
               AND c.contact_phone LIKE '%' || regexp_replace(p_search, '\D', '', 'g') || '%')
           OR c.search @@ analytics.search_query(p_search))
$$;

-- etl.stored_conversations returns which of the given conversation ids the current tenant has
-- stored. Planned once, generically (force_generic_plan): the caller's tenant may hold a million
-- rows this very transaction wrote while the statistics say it has none, and a plan built on
-- that (a scan of any index that starts with tenant_id, under a LIMIT 1) probed the whole tenant
-- for every staged row; the generic plan can only probe the primary key, once per id.
CREATE FUNCTION etl.stored_conversations(p_tenant bigint, p_ids integer[]) RETURNS integer[]
    LANGUAGE sql STABLE
    SET plan_cache_mode = force_generic_plan
    AS $$
    SELECT coalesce(array_agg(c.conversation_id), '{}')
    FROM unnest(p_ids) AS i(id)
    JOIN analytics.conversations c ON c.tenant_id = p_tenant AND c.conversation_id = i.id
$$;
COMMENT ON FUNCTION etl.stored_conversations(bigint, integer[]) IS 'Ids among p_ids that the tenant has in analytics.conversations (primary-key probes, generic plan).';
GRANT EXECUTE ON FUNCTION etl.stored_conversations(bigint, integer[]) TO geniai_etl;

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

---- create above / drop below ----

CREATE OR REPLACE FUNCTION analytics.conversation_filter(
    p_tenant_id  bigint,
    p_from       date,
    p_to         date,
    p_inboxes    integer[] DEFAULT NULL,
    p_channel    text DEFAULT NULL,
    p_label      text DEFAULT NULL,
    p_status     smallint DEFAULT NULL,
    p_stage      text DEFAULT NULL,
    p_flag       text DEFAULT NULL,
    p_frt_bucket smallint DEFAULT NULL,
    p_dow        smallint DEFAULT NULL,
    p_hour       smallint DEFAULT NULL,
    p_csat       smallint DEFAULT NULL,
    p_search     text DEFAULT NULL)
    RETURNS SETOF analytics.conversations
    LANGUAGE sql STABLE
    AS $$
    SELECT c.*
    FROM analytics.conversations c
    WHERE c.tenant_id = p_tenant_id
      AND c.created_day BETWEEN p_from AND p_to
      AND (p_inboxes IS NULL OR c.inbox_id = ANY (p_inboxes))
      AND (p_channel IS NULL OR c.channel_type = p_channel)
      AND (p_label IS NULL OR c.labels @> ARRAY[p_label])
      AND (p_status IS NULL OR c.status = p_status)
      AND (p_stage IS NULL
           OR (p_stage = 'lead' AND c.is_lead)
           OR (p_stage = 'visit' AND c.is_visit)
           OR (p_stage = 'converted' AND c.is_converted)
           OR (p_stage = 'none' AND NOT c.is_lead))
      AND (p_flag IS NULL
           OR (p_flag = 'unanswered' AND c.unanswered)
           OR (p_flag = 'unanswered_lead' AND c.unanswered AND c.is_lead)
           OR (p_flag = 'replied' AND c.first_reply_seconds IS NOT NULL)
           OR (p_flag = 'human_replied' AND c.first_human_reply_seconds IS NOT NULL)
           OR (p_flag = 'resolved' AND c.resolved)
           OR (p_flag = 'bot_resolved' AND c.bot_resolved)
           OR (p_flag = 'with_bot' AND c.bot_messages > 0)
           OR (p_flag = 'handoff' AND c.handoff)
           OR (p_flag = 'csat' AND c.csat_rating IS NOT NULL)
           OR (p_flag = 'satisfied' AND c.csat_rating >= 4))
      AND (p_frt_bucket IS NULL OR analytics.frt_bucket(c.first_reply_seconds) = p_frt_bucket)
      AND (p_dow IS NULL OR c.created_dow = p_dow)
      AND (p_hour IS NULL OR c.created_hour = p_hour)
      AND (p_csat IS NULL OR c.csat_rating = p_csat)
      AND (p_search IS NULL
           OR c.contact_name ILIKE '%' || analytics.like_escape(p_search) || '%'
           OR (length(regexp_replace(p_search, '\D', '', 'g')) >= 3
               AND c.contact_phone LIKE '%' || regexp_replace(p_search, '\D', '', 'g') || '%')
           OR EXISTS (SELECT FROM analytics.messages m
                      WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.conversation_id
                        AND m.content ILIKE '%' || analytics.like_escape(p_search) || '%'))
$$;

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
    v_existing := ARRAY(
        SELECT sc.conversation_id
        FROM etl.stage_conversations sc
        CROSS JOIN LATERAL (SELECT FROM analytics.conversations c
                            WHERE c.tenant_id = t AND c.conversation_id = sc.conversation_id LIMIT 1) hit
        WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk);

    -- Days that lose rows: current days of stored conversations about to change.
    SELECT array_agg(DISTINCT c.created_day) INTO v_days
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_existing));

    v_ins := 0;
    v_upd := 0;
    v_msgs := 0;
    BEGIN
        -- One statement, so the staged rows and their derived columns (days and hours in the
        -- tenant's timezone, DESIGN §5 flags, funnel stage) are computed once: stored conversations
        -- are rewritten only when something differs; new ones (all of a first load) are plain INSERTs.
        WITH texts AS (
            SELECT sm.conversation_id, array_agg(sm.content) AS contact_texts
            FROM etl.stage_messages sm
            WHERE has_regex AND sm.run_id = p_run_id AND sm.chunk = p_chunk AND sm.sender = 'contact'
            GROUP BY sm.conversation_id
        ), x AS (
            SELECT sc.*,
                   (sc.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN etl.funnel_stage(s, sc.labels, coalesce(tx.contact_texts, '{}'), sc.contact_messages)
                        ELSE etl.funnel_stage_labels(s, sc.labels, sc.contact_messages) END AS stage
            FROM etl.stage_conversations sc
            LEFT JOIN texts tx ON tx.conversation_id = sc.conversation_id
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
                   now() AS loaded_at
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
                is_converted = x.is_converted, loaded_at = x.loaded_at
            FROM src x
            -- = ANY (v_existing): the rows to compare are known; a first load compares none, and
            -- the planner cannot drive the join from this tenant's mis-estimated fresh rows.
            WHERE c.tenant_id = t AND c.conversation_id = ANY (v_existing) AND c.conversation_id = x.conversation_id
              AND (c.account_id, c.inbox_id, c.display_id, c.channel_type, c.status, c.priority, c.contact_id,
                   c.contact_name, c.contact_phone, c.assignee_id, c.team_id, c.labels, c.created_at,
                   c.source_updated_at, c.last_activity_at, c.created_day, c.created_hour, c.created_dow,
                   c.contact_messages, c.bot_messages, c.human_messages, c.private_notes, c.first_contact_at,
                   c.first_reply_at, c.first_reply_seconds, c.first_human_reply_at, c.first_human_reply_seconds,
                   c.last_message_at, c.unanswered, c.resolved, c.handoff, c.bot_resolved, c.resolution_seconds,
                   c.csat_rating, c.csat_at, c.is_lead, c.is_visit, c.is_converted)
              IS DISTINCT FROM
                  (x.account_id, x.inbox_id, x.display_id, x.channel_type, x.status, x.priority, x.contact_id,
                   x.contact_name, x.contact_phone, x.assignee_id, x.team_id, x.labels, x.created_at,
                   x.source_updated_at, x.last_activity_at, x.created_day, x.created_hour, x.created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at, x.first_reply_seconds, x.first_human_reply_at, x.first_human_reply_seconds,
                   x.last_message_at, x.unanswered, x.resolved, x.handoff, x.bot_resolved, x.resolution_seconds,
                   x.csat_rating, x.csat_at, x.is_lead, x.is_visit, x.is_converted)
            RETURNING c.created_day
        ), ins AS (
            INSERT INTO analytics.conversations (
                tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type, status, priority,
                contact_id, contact_name, contact_phone, assignee_id, team_id, labels, created_at,
                source_updated_at, last_activity_at, created_day, created_hour, created_dow,
                contact_messages, bot_messages, human_messages, private_notes, first_contact_at,
                first_reply_at, first_reply_seconds, first_human_reply_at, first_human_reply_seconds,
                last_message_at, unanswered, resolved, handoff, bot_resolved, resolution_seconds,
                csat_rating, csat_at, is_lead, is_visit, is_converted, loaded_at)
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

CREATE INDEX messages_content_trgm_idx ON analytics.messages USING gin (content gin_trgm_ops);
DROP INDEX analytics.conversations_search_idx;
ALTER TABLE analytics.conversations DROP COLUMN search;
DROP FUNCTION etl.stored_conversations(bigint, integer[]);
DROP FUNCTION analytics.search_query(text);
DROP FUNCTION analytics.search_document(text, text[]);
DROP FUNCTION analytics.search_fold(text);
ALTER TABLE etl.stage_conversations DROP COLUMN contact_texts, DROP COLUMN search_words;
