-- The ETL merge: staging tables, daily rollups, funnel rules and the one function that applies a
-- run (etl.merge_run). Metric definitions: DESIGN.md §5.
--
-- Flow of a run (internal/etl), all in ONE transaction: COPY the id set of every source
-- conversation of the tenant's inboxes into etl.stage_ids; then chunk by chunk, COPY the changed
-- conversations (aggregates) into etl.stage_conversations and their public messages into
-- etl.stage_messages and SELECT etl.merge_chunk(run_id, chunk) — while the ETL already reads the
-- next chunk from Chatwoot; finally SELECT etl.merge_run(run_id): deletions, rollups of the
-- affected days, run status, watermark. merge_run deletes the run's staging rows before it
-- returns, so staging never holds committed rows.
--
-- Load speed (make bench): staging is UNLOGGED with one small index each; the merge is
-- set-based throughout (hash joins, no per-row JSON or function calls when the tenant has no
-- regular expression rule), inserts conversations and messages that are new with plain INSERTs
-- and only compares (IS DISTINCT FROM) rows that already exist, and runs without JIT (its
-- compile time exceeds the gain at these sizes).

-- Funnel rules: any change to a rule column bumps rules_version, which tells the ETL to
-- re-apply the rules to the tenant's whole history.
CREATE FUNCTION app.tenant_settings_bump_rules() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF (NEW.lead_labels, NEW.lead_regex, NEW.lead_any_message, NEW.visit_labels, NEW.visit_regex,
        NEW.converted_labels, NEW.converted_regex)
       IS DISTINCT FROM
       (OLD.lead_labels, OLD.lead_regex, OLD.lead_any_message, OLD.visit_labels, OLD.visit_regex,
        OLD.converted_labels, OLD.converted_regex)
       AND NEW.rules_version = OLD.rules_version THEN
        NEW.rules_version := OLD.rules_version + 1;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.tenant_settings_bump_rules() IS 'BEFORE UPDATE on tenant_settings: a changed funnel rule bumps rules_version.';
CREATE TRIGGER tenant_settings_bump_rules BEFORE UPDATE ON app.tenant_settings
    FOR EACH ROW EXECUTE FUNCTION app.tenant_settings_bump_rules();

-- What the last successful merge applied, so the next one knows when to rebuild history.
ALTER TABLE etl.watermarks
    ADD COLUMN timezone text,
    ADD COLUMN rules_version integer;
COMMENT ON COLUMN etl.watermarks.timezone IS 'Tenant timezone the stored days and hours were computed in.';
COMMENT ON COLUMN etl.watermarks.rules_version IS 'tenant_settings.rules_version the stored funnel stages were computed with.';
GRANT UPDATE (timezone, rules_version) ON etl.watermarks TO geniai_etl;

-- Staging. UNLOGGED (COPY speed; a crash empties it, which is fine: it is only ever filled and
-- emptied inside one transaction). Keyed by run_id, not tenant_id: rows never become visible to
-- another transaction. No RLS (COPY cannot target RLS tables); only geniai_etl has privileges.
CREATE UNLOGGED TABLE etl.stage_ids (
    run_id          bigint      NOT NULL,
    conversation_id integer     NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (run_id, conversation_id)
);
COMMENT ON TABLE etl.stage_ids IS 'Staging: every source conversation id of the tenant''s mapped inboxes for one run (deletion reconcile, change detection).';

CREATE UNLOGGED TABLE etl.stage_conversations (
    run_id               bigint      NOT NULL,
    chunk                integer     NOT NULL,
    conversation_id      integer     NOT NULL,
    account_id           integer     NOT NULL,
    inbox_id             integer     NOT NULL,
    display_id           integer     NOT NULL,
    channel_type         text        NOT NULL,
    status               smallint    NOT NULL,
    priority             smallint,
    contact_id           bigint,
    contact_name         text        NOT NULL,
    contact_phone        text        NOT NULL,
    assignee_id          integer,
    team_id              bigint,
    labels               text[]      NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    last_activity_at     timestamptz NOT NULL,
    contact_messages     integer     NOT NULL,
    bot_messages         integer     NOT NULL,
    human_messages       integer     NOT NULL,
    private_notes        integer     NOT NULL,
    first_contact_at     timestamptz,
    first_reply_at       timestamptz,
    first_human_reply_at timestamptz,
    last_message_at      timestamptz,
    handoff              boolean     NOT NULL,
    resolved_event_at    timestamptz,
    csat_rating          smallint,
    csat_at              timestamptz,
    PRIMARY KEY (run_id, conversation_id)
);
COMMENT ON TABLE etl.stage_conversations IS 'Staging: per-conversation aggregates extracted from Chatwoot for one run.';
COMMENT ON COLUMN etl.stage_conversations.chunk IS 'Extraction batch within the run (etl.merge_chunk merges one).';
-- Keyed reads by run and chunk: a merge never walks the (dead, not yet vacuumed) rows of earlier
-- chunks or runs.
CREATE INDEX stage_conversations_chunk_idx ON etl.stage_conversations (run_id, chunk);
COMMENT ON COLUMN etl.stage_conversations.csat_rating IS 'Latest CSAT rating 1-5, NULL without an answer (the source query sends 0 for "none": sqlc loses the nullability of its LEFT JOIN; the ETL maps 0 to NULL before COPY).';
COMMENT ON COLUMN etl.stage_conversations.last_message_at IS 'Latest contact, bot or human public message; activity and template messages excluded on purpose.';

-- No key (message ids are unique in the source); one index so that a merge reads its chunk only.
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

-- Days (tenant timezone) whose rollups a run changes, noted chunk by chunk; duplicates allowed.
CREATE UNLOGGED TABLE etl.stage_days (
    run_id bigint NOT NULL,
    day    date   NOT NULL
);
COMMENT ON TABLE etl.stage_days IS 'Staging: days whose daily_stats a run must rebuild (old and new creation days of the conversations it changed).';

REVOKE ALL ON etl.stage_ids, etl.stage_conversations, etl.stage_messages, etl.stage_days FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON etl.stage_ids, etl.stage_conversations, etl.stage_messages, etl.stage_days TO geniai_etl;

-- Load speed: the messages -> conversations foreign key checks every inserted message with one
-- index probe through a per-row trigger; at a full load of 900k messages that alone took 7.8 of
-- 17 s (make bench). analytics.* is written only by etl.merge_run, which inserts messages only of
-- conversations it has just upserted and deletes a conversation's messages with it, so the key
-- is kept by the writer instead (internal/etl's tests check there are no orphans).
ALTER TABLE analytics.messages DROP CONSTRAINT messages_tenant_id_conversation_id_fkey;

-- Daily rollups per tenant, day (tenant timezone, the conversation's creation day) and inbox.
CREATE TABLE analytics.daily_stats (
    tenant_id                 bigint           NOT NULL,
    day                       date             NOT NULL,
    inbox_id                  integer          NOT NULL,
    conversations             integer          NOT NULL DEFAULT 0,
    leads                     integer          NOT NULL DEFAULT 0,
    visits                    integer          NOT NULL DEFAULT 0,
    conversions               integer          NOT NULL DEFAULT 0,
    unanswered                integer          NOT NULL DEFAULT 0,
    unanswered_leads          integer          NOT NULL DEFAULT 0,
    resolved                  integer          NOT NULL DEFAULT 0,
    bot_resolved              integer          NOT NULL DEFAULT 0,
    handoffs                  integer          NOT NULL DEFAULT 0,
    with_bot                  integer          NOT NULL DEFAULT 0,
    first_reply_count         integer          NOT NULL DEFAULT 0,
    first_reply_sum           double precision NOT NULL DEFAULT 0,
    first_reply_lt_1m         integer          NOT NULL DEFAULT 0,
    first_reply_1m_5m         integer          NOT NULL DEFAULT 0,
    first_reply_5m_15m        integer          NOT NULL DEFAULT 0,
    first_reply_15m_1h        integer          NOT NULL DEFAULT 0,
    first_reply_1h_4h         integer          NOT NULL DEFAULT 0,
    first_reply_4h_24h        integer          NOT NULL DEFAULT 0,
    first_reply_gt_24h        integer          NOT NULL DEFAULT 0,
    first_human_reply_count   integer          NOT NULL DEFAULT 0,
    first_human_reply_sum     double precision NOT NULL DEFAULT 0,
    resolution_count          integer          NOT NULL DEFAULT 0,
    resolution_sum            double precision NOT NULL DEFAULT 0,
    csat_responses            integer          NOT NULL DEFAULT 0,
    csat_satisfied            integer          NOT NULL DEFAULT 0,
    csat_1                    integer          NOT NULL DEFAULT 0,
    csat_2                    integer          NOT NULL DEFAULT 0,
    csat_3                    integer          NOT NULL DEFAULT 0,
    csat_4                    integer          NOT NULL DEFAULT 0,
    csat_5                    integer          NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, inbox_id)
);
COMMENT ON TABLE analytics.daily_stats IS 'Per tenant, day (tenant timezone, creation day of the conversation) and inbox: counts and sums of the conversation metrics (DESIGN §5). Rebuilt by etl.merge_run for affected days only.';
COMMENT ON COLUMN analytics.daily_stats.first_reply_lt_1m IS 'First-reply buckets: [0,1m) [1m,5m) [5m,15m) [15m,1h) [1h,4h) [4h,24h) [24h,∞).';
COMMENT ON COLUMN analytics.daily_stats.csat_satisfied IS 'Conversations whose latest rating is 4 or 5.';

ALTER TABLE analytics.daily_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.daily_stats FORCE ROW LEVEL SECURITY;
CREATE POLICY daily_stats_tenant_read ON analytics.daily_stats FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY daily_stats_staff_read ON analytics.daily_stats FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY daily_stats_etl_all ON analytics.daily_stats FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON analytics.daily_stats TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT, DELETE ON analytics.daily_stats TO geniai_etl;

-- Funnel stage of one conversation under a tenant's rules: 0 none, 1 lead, 2 visit scheduled,
-- 3 converted. Cumulative by construction. Regular expressions are case-insensitive and see
-- contact messages only. The stage is the greater of what the labels (and "any message") reach
-- and what the regular expressions reach; etl.funnel_stage_labels is the first half alone, a plain
-- expression the planner inlines, which merge_run uses when the tenant has no regular expression
-- (a call of etl.funnel_stage per row costs more than the rest of the merge).
CREATE FUNCTION etl.funnel_stage_labels(s app.tenant_settings, labels text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN labels && s.converted_labels THEN 3
        WHEN labels && s.visit_labels THEN 2
        WHEN (s.lead_any_message AND contact_messages > 0) OR labels && s.lead_labels THEN 1
        ELSE 0
    END::smallint
$$;
COMMENT ON FUNCTION etl.funnel_stage_labels(app.tenant_settings, text[], integer) IS
    'Funnel stage (0-3) reached by labels and the "any contact message" lead rule alone (no regular expressions).';
GRANT EXECUTE ON FUNCTION etl.funnel_stage_labels(app.tenant_settings, text[], integer) TO geniai_etl;

CREATE FUNCTION etl.funnel_stage(s app.tenant_settings, labels text[], contact_texts text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT greatest(etl.funnel_stage_labels(s, labels, contact_messages), CASE
        WHEN s.converted_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.converted_regex)
            THEN 3
        WHEN s.visit_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.visit_regex)
            THEN 2
        WHEN s.lead_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.lead_regex)
            THEN 1
        ELSE 0
    END)::smallint
$$;
COMMENT ON FUNCTION etl.funnel_stage(app.tenant_settings, text[], text[], integer) IS
    'Funnel stage (0 none, 1 lead, 2 visit, 3 converted) of a conversation from its labels and contact messages under the tenant''s rules.';
GRANT EXECUTE ON FUNCTION etl.funnel_stage(app.tenant_settings, text[], text[], integer) TO geniai_etl;

-- Beyond daily_stats, so a large tenant's dashboard reads a few hundred rollup rows instead of
-- scanning its conversations: per day and inbox, histograms of the reply and resolution times
-- (for medians and p90), conversations by hour of the day (the heatmap) and by label.

-- analytics.hist_bucket places a duration on a log scale with 5% wide buckets:
-- bucket b holds [1.05^b - 1, 1.05^(b+1) - 1) seconds; 400 buckets reach past a year.
CREATE FUNCTION analytics.hist_bucket(seconds double precision) RETURNS smallint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT least(floor(ln(1 + greatest(seconds, 0)) / ln(1.05)), 399)::smallint $$;
COMMENT ON FUNCTION analytics.hist_bucket(double precision) IS 'Log-scale histogram bucket (5% wide) of a duration in seconds; NULL for NULL.';
GRANT EXECUTE ON FUNCTION analytics.hist_bucket(double precision) TO geniai_tenant, geniai_staff, geniai_etl;

CREATE TABLE analytics.daily_dist (
    tenant_id     bigint   NOT NULL,
    day           date     NOT NULL,
    inbox_id      integer  NOT NULL,
    metric        smallint NOT NULL CHECK (metric BETWEEN 1 AND 4),
    bucket        smallint NOT NULL CHECK (bucket BETWEEN 0 AND 399),
    conversations integer  NOT NULL CHECK (conversations > 0),
    PRIMARY KEY (tenant_id, day, inbox_id, metric, bucket)
);
COMMENT ON TABLE analytics.daily_dist IS 'Per tenant, creation day and inbox: distributions of conversations. Rebuilt by etl.refresh_daily_stats.';
COMMENT ON COLUMN analytics.daily_dist.metric IS '1 first reply, 2 first human reply, 3 resolution (bucket = analytics.hist_bucket of the seconds); 4 hour of creation (bucket = hour 0-23).';

CREATE TABLE analytics.daily_labels (
    tenant_id     bigint  NOT NULL,
    day           date    NOT NULL,
    inbox_id      integer NOT NULL,
    label         text    NOT NULL,
    conversations integer NOT NULL,
    leads         integer NOT NULL,
    conversions   integer NOT NULL,
    PRIMARY KEY (tenant_id, day, inbox_id, label)
);
COMMENT ON TABLE analytics.daily_labels IS 'Per tenant, creation day, inbox and label: conversations, leads and conversions carrying the label. Rebuilt by etl.refresh_daily_stats.';

ALTER TABLE analytics.daily_dist ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.daily_dist FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.daily_labels ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.daily_labels FORCE ROW LEVEL SECURITY;
CREATE POLICY daily_dist_tenant_read ON analytics.daily_dist FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY daily_dist_staff_read ON analytics.daily_dist FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY daily_dist_etl_all ON analytics.daily_dist FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY daily_labels_tenant_read ON analytics.daily_labels FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY daily_labels_staff_read ON analytics.daily_labels FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY daily_labels_etl_all ON analytics.daily_labels FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON analytics.daily_dist, analytics.daily_labels TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT, DELETE ON analytics.daily_dist, analytics.daily_labels TO geniai_etl;

-- Rebuilds the daily rollups of the current tenant for the given days (NULL: every day).
CREATE FUNCTION etl.refresh_daily_stats(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    AS $$
DECLARE
    t bigint := app.current_tenant_id();
BEGIN
    DELETE FROM analytics.daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.daily_stats
    SELECT c.tenant_id, c.created_day, c.inbox_id,
           count(*),
           count(*) FILTER (WHERE c.is_lead),
           count(*) FILTER (WHERE c.is_visit),
           count(*) FILTER (WHERE c.is_converted),
           count(*) FILTER (WHERE c.unanswered),
           count(*) FILTER (WHERE c.unanswered AND c.is_lead),
           count(*) FILTER (WHERE c.resolved),
           count(*) FILTER (WHERE c.bot_resolved),
           count(*) FILTER (WHERE c.handoff),
           count(*) FILTER (WHERE c.bot_messages > 0),
           count(c.first_reply_seconds),
           coalesce(sum(c.first_reply_seconds), 0),
           count(*) FILTER (WHERE c.first_reply_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_seconds >= 60 AND c.first_reply_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_seconds >= 300 AND c.first_reply_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_seconds >= 900 AND c.first_reply_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_seconds >= 3600 AND c.first_reply_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 14400 AND c.first_reply_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 86400),
           count(c.first_human_reply_seconds),
           coalesce(sum(c.first_human_reply_seconds), 0),
           count(c.resolution_seconds),
           coalesce(sum(c.resolution_seconds), 0),
           count(c.csat_rating),
           count(*) FILTER (WHERE c.csat_rating >= 4),
           count(*) FILTER (WHERE c.csat_rating = 1),
           count(*) FILTER (WHERE c.csat_rating = 2),
           count(*) FILTER (WHERE c.csat_rating = 3),
           count(*) FILTER (WHERE c.csat_rating = 4),
           count(*) FILTER (WHERE c.csat_rating = 5)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY c.tenant_id, c.created_day, c.inbox_id;

    -- Distributions: reply and resolution histograms, and conversations by hour of the day.
    DELETE FROM analytics.daily_dist d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    -- One grouped pass per metric: cheaper than one pass over four times the rows.
    INSERT INTO analytics.daily_dist (tenant_id, day, inbox_id, metric, bucket, conversations)
    SELECT c.tenant_id, c.created_day, c.inbox_id, 1, analytics.hist_bucket(c.first_reply_seconds), count(*)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_reply_seconds IS NOT NULL
    GROUP BY 1, 2, 3, 5
    UNION ALL
    SELECT c.tenant_id, c.created_day, c.inbox_id, 2, analytics.hist_bucket(c.first_human_reply_seconds), count(*)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_human_reply_seconds IS NOT NULL
    GROUP BY 1, 2, 3, 5
    UNION ALL
    SELECT c.tenant_id, c.created_day, c.inbox_id, 3, analytics.hist_bucket(c.resolution_seconds), count(*)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.resolution_seconds IS NOT NULL
    GROUP BY 1, 2, 3, 5
    UNION ALL
    SELECT c.tenant_id, c.created_day, c.inbox_id, 4, c.created_hour, count(*)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY 1, 2, 3, 5;

    DELETE FROM analytics.daily_labels d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.daily_labels (tenant_id, day, inbox_id, label, conversations, leads, conversions)
    SELECT c.tenant_id, c.created_day, c.inbox_id, l.label, count(*),
           count(*) FILTER (WHERE c.is_lead), count(*) FILTER (WHERE c.is_converted)
    FROM analytics.conversations c
    CROSS JOIN LATERAL unnest(c.labels) AS l(label)
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY c.tenant_id, c.created_day, c.inbox_id, l.label;
END
$$;
COMMENT ON FUNCTION etl.refresh_daily_stats(date[]) IS 'Rebuilds analytics.daily_stats of the current tenant for the given days (NULL: all) from analytics.conversations.';
GRANT EXECUTE ON FUNCTION etl.refresh_daily_stats(date[]) TO geniai_etl;

-- Merges the chunk staged so far (etl.stage_conversations/stage_messages of the run) into
-- analytics.conversations and analytics.messages, adds its counts to the run row, notes the days
-- whose rollups change in etl.stage_days, and empties the chunk's staging. The ETL calls it after
-- each chunk's COPY, so the merge of chunk n overlaps the source reading chunk n+1; etl.merge_run
-- finishes the run. Same transaction as the COPY: nothing is visible before merge_run commits.
CREATE FUNCTION etl.merge_chunk(p_run_id bigint, p_chunk integer)
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
GRANT EXECUTE ON FUNCTION etl.merge_chunk(bigint, integer) TO geniai_etl;

-- Completes one run: see the header. SECURITY INVOKER, so every statement runs under
-- geniai_etl's RLS and the context's tenant; a run of another tenant is invisible and refused.
CREATE FUNCTION etl.merge_run(p_run_id bigint)
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
GRANT EXECUTE ON FUNCTION etl.merge_run(bigint) TO geniai_etl;

---- create above / drop below ----

DROP FUNCTION etl.merge_run(bigint);
DROP FUNCTION etl.merge_chunk(bigint, integer);
DROP FUNCTION etl.refresh_daily_stats(date[]);
DROP TABLE analytics.daily_labels;
DROP TABLE analytics.daily_dist;
DROP FUNCTION analytics.hist_bucket(double precision);
DROP FUNCTION etl.funnel_stage(app.tenant_settings, text[], text[], integer);
DROP FUNCTION etl.funnel_stage_labels(app.tenant_settings, text[], integer);
DROP TABLE analytics.daily_stats;
ALTER TABLE analytics.messages ADD CONSTRAINT messages_tenant_id_conversation_id_fkey
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES analytics.conversations (tenant_id, conversation_id) ON DELETE CASCADE;
DROP TABLE etl.stage_days;
DROP TABLE etl.stage_messages;
DROP TABLE etl.stage_conversations;
DROP TABLE etl.stage_ids;
ALTER TABLE etl.watermarks DROP COLUMN rules_version, DROP COLUMN timezone;
DROP TRIGGER tenant_settings_bump_rules ON app.tenant_settings;
DROP FUNCTION app.tenant_settings_bump_rules();
