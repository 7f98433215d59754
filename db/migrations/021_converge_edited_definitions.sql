-- Convergence: today's definitions of everything that shipped migrations changed in place.
--
-- Migrations 001-015 were edited after they were on main (tern records only version numbers),
-- so a database migrated before an edit kept the older definition while a fresh one gets the
-- newer. This migration re-issues, verbatim, the latest definition that migrations 001-020 give
-- each object such an edit changed, so every database that reaches this version has the same
-- functions, policies, triggers, comments and rollup-table shape as a fresh one. On a fresh
-- database it changes nothing (internal/pg's tests compare the schema dump before and after).
-- Migrations are sealed now (db/migrations.sum), so this does not happen again.
--
-- The edits it covers (file: commits that changed it after it shipped → objects re-issued):
--   001: 15c2c83 → app.is_valid_timezone and its comment
--   002: 15c2c83 → audit.actor_role, audit.redact, audit.log, audit.record_change; policy
--        events_staff_read
--   003: 15c2c83, c4c8d1f → app.users_check_role, app.users_auth_version_forward and its
--        trigger; policies tenants/users/tenant_inboxes/tenant_settings_staff_read; the default
--        of app.tenant_settings.secondary_color
--   004, 005: 15c2c83 → policies conversations_staff_read, runs_staff_read, watermarks_staff_read
--   007: 4b8edb8 → app.schema_version (pg_temp pinned last in its search_path)
--   009: 8947123, 7f8ae42, 2bfca82, 690bd5c, e2cfd40 → policy daily_stats_staff_read (016
--        redefined etl.merge_chunk and etl.merge_run, and 020 etl.merge_chunk again)
--   011: 26032dd, ebe502e, 55728cf, 172138f, f427a36 → analytics.search_fold, search_document,
--        search_query and their comments, analytics.conversation_filter, etl.stored_conversations
--   012: da7f46f → etl.fingerprint_hash
--   013: 1d4553e, 23f197c → analytics.inbox_hist_entries, etl.refresh_inbox_rollups (013's
--        etl.refresh_daily_stats, renamed by 014), analytics.tenant_daily_hist.by_inbox with its
--        CHECK, storage and comment, the histogram CHECKs, the key order of analytics.daily_hist
--   014: 23f197c → nothing (the same schema, written so squawk passes)
--   015: 07c122a → the comment on etl.runs.messages
-- Found by replaying the history: for every commit that touched db/migrations, a database
-- migrated with that commit's files and then with today's, dumped and compared object by object
-- with a fresh one; after this migration, every replay that reaches it dumps identically.
--
-- What it cannot reach. Some databases fail before this migration, at 013 to 019, and need to
-- be rebuilt (a fresh `geniai migrate`, tenants and users re-created, `geniai etl run --full`):
-- those last migrated at d2d0d61 to c4c8d1f (their 009 has no analytics.daily_dist; 013 fails),
-- at 8947123 (version 11 was the withdrawn 011_dashboard_rollups, so 011_search never runs),
-- and at a8f7e6b to da7f46f (their etl.stage_conversations lacks contact_texts; 015 fails).
-- Likewise those migrated at b141164, 770e57f or f116b8c, while 017-019 carried other numbers
-- (renumbered on main minutes later): 017, 018 or 019 fails on objects they already have.
--
-- After it, run `geniai etl run --full` once on a converged database: rollups written by the
-- older functions are rebuilt by today's.

-- ----------------------------------------------------------------------------------------------
-- Table shapes changed by the edits of 003 and 013: the accent colour's default, the per-inbox
-- first-reply histograms packed into tenant_daily_hist (the column etl.refresh_inbox_rollups
-- writes), the histogram CHECKs and daily_hist's key order. Each step acts only where the
-- database differs from a fresh one.

ALTER TABLE app.tenant_settings ALTER COLUMN secondary_color SET DEFAULT '#B45309';
ALTER TABLE analytics.tenant_daily_hist ADD COLUMN IF NOT EXISTS by_inbox bytea;
ALTER TABLE analytics.tenant_daily_hist ALTER COLUMN by_inbox SET STORAGE EXTERNAL;

DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT * FROM (VALUES
            ('analytics.daily_hist'::regclass, 'daily_hist_check',
             'CHECK (((cardinality(buckets) = cardinality(counts)) AND (cardinality(counts) > 0)))'),
            ('analytics.daily_hist'::regclass, 'daily_hist_pkey',
             'PRIMARY KEY (tenant_id, inbox_id, day, metric)'),
            ('analytics.tenant_daily_hist'::regclass, 'tenant_daily_hist_check',
             'CHECK (((cardinality(buckets) = cardinality(counts)) AND (cardinality(counts) > 0)))'),
            ('analytics.tenant_daily_hist'::regclass, 'tenant_daily_hist_check1',
             'CHECK (((by_inbox IS NULL) OR ((metric = 1) AND ((length(by_inbox) % 10) = 0))))')
        ) AS want(tbl, name, def)
        WHERE NOT EXISTS (SELECT FROM pg_constraint k
                           WHERE k.conrelid = want.tbl AND k.conname = want.name
                             AND pg_get_constraintdef(k.oid) = want.def)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', c.tbl, c.name);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.tbl, c.name, c.def);
    END LOOP;
END
$$;

-- ----------------------------------------------------------------------------------------------
-- Functions, in the order of the migrations that define them, each with its comment and grants.
-- ----------------------------------------------------------------------------------------------
-- app (001, 003, 007)

CREATE OR REPLACE FUNCTION app.is_valid_timezone(tz text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
BEGIN
    IF tz IS NULL OR (tz !~ '^[A-Za-z]+(/[A-Za-z0-9_+-]+)+$' AND tz <> 'UTC') THEN
        RETURN false;
    END IF;
    PERFORM now() AT TIME ZONE tz;
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;
COMMENT ON FUNCTION app.is_valid_timezone(text) IS 'True for an IANA zone name PostgreSQL knows (America/Sao_Paulo, UTC); abbreviations and offsets are refused.';
GRANT EXECUTE ON FUNCTION app.is_valid_timezone(text), app.is_valid_regex(text)
    TO geniai_tenant, geniai_staff, geniai_etl;

CREATE OR REPLACE FUNCTION app.users_auth_version_forward() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.auth_version < OLD.auth_version THEN
        RAISE EXCEPTION 'auth_version cannot decrease'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_auth_version_forward';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.users_auth_version_forward() IS 'Refuses lowering app.users.auth_version.';

CREATE OR REPLACE FUNCTION app.users_check_role() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    platform boolean;
BEGIN
    SELECT is_platform INTO platform FROM app.tenants WHERE id = NEW.tenant_id;
    IF platform IS NULL THEN
        RETURN NEW; -- the foreign key reports the unknown tenant
    END IF;
    IF platform <> (NEW.role IN ('super_admin', 'support')) THEN
        RAISE EXCEPTION 'role % is not allowed in this tenant', NEW.role
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_role_matches_tenant';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.users_check_role() IS 'Staff roles only in the platform tenant; client/admin only in client tenants.';

CREATE OR REPLACE FUNCTION app.schema_version() RETURNS integer
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT version FROM public.schema_version $$;
COMMENT ON FUNCTION app.schema_version() IS 'Applied tern migration version, for readiness checks.';
GRANT EXECUTE ON FUNCTION app.schema_version() TO geniai_anon, geniai_staff;


-- ----------------------------------------------------------------------------------------------
-- audit (002)

CREATE OR REPLACE FUNCTION audit.actor_role() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT coalesce(nullif(current_setting('geniai.app_role', true), ''),
                    nullif(current_setting('geniai.actor', true), ''),
                    CASE current_setting('role', true)
                        WHEN 'geniai_etl' THEN 'etl'
                        WHEN 'geniai_anon' THEN 'anon'
                        ELSE session_user::text
                    END)
$$;

CREATE OR REPLACE FUNCTION audit.redact(row_values jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN row_values ? 'password_hash'
                THEN jsonb_set(row_values, '{password_hash}', '"[redacted]"')
                ELSE row_values END
$$;
COMMENT ON FUNCTION audit.redact(jsonb) IS 'Replaces a password hash in a row image with [redacted].';

CREATE OR REPLACE FUNCTION audit.log(p_action text, p_entity text, p_entity_id text, p_old jsonb, p_new jsonb,
                          p_tenant_id bigint DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ctx_tenant bigint := nullif(current_setting('geniai.tenant_id', true), '')::bigint;
    tenant     bigint := coalesce(p_tenant_id, ctx_tenant);
    role       text   := nullif(current_setting('geniai.app_role', true), '');
    event_id   bigint;
BEGIN
    IF tenant IS NULL THEN
        SELECT id INTO tenant FROM app.tenants WHERE is_platform;
    END IF;
    -- Only staff may log for a tenant other than their context's; a tenant or loader context
    -- without a tenant may log nothing (a forgotten context must not reach any tenant's trail).
    IF coalesce(role, '') NOT IN ('super_admin', 'support')
       AND ((ctx_tenant IS NOT NULL AND p_tenant_id IS NOT NULL AND p_tenant_id <> ctx_tenant)
            OR (ctx_tenant IS NULL AND current_setting('role') IN ('geniai_tenant', 'geniai_etl'))) THEN
        RAISE EXCEPTION 'cannot write an audit event for another tenant'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO audit.events (tenant_id, actor_user_id, actor_role, action, entity, entity_id,
                              old_values, new_values, ip, user_agent)
    VALUES (tenant,
            nullif(current_setting('geniai.user_id', true), '')::bigint,
            audit.actor_role(),
            p_action, p_entity, p_entity_id,
            audit.redact(p_old), audit.redact(p_new),
            nullif(current_setting('geniai.ip', true), '')::inet,
            nullif(current_setting('geniai.user_agent', true), ''))
    RETURNING id INTO event_id;
    RETURN event_id;
END
$$;
COMMENT ON FUNCTION audit.log(text, text, text, jsonb, jsonb, bigint) IS 'Appends an audit event; the actor, ip and user agent come from the request context, never from arguments.';
GRANT EXECUTE ON FUNCTION audit.log(text, text, text, jsonb, jsonb, bigint)
    TO geniai_tenant, geniai_staff, geniai_etl;

CREATE OR REPLACE FUNCTION audit.record_change() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    old_row  jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    new_row  jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    any_row  jsonb := coalesce(new_row, old_row);
    -- Columns that only record sign-in bookkeeping; a change to them alone is audited by the
    -- login functions as login.* events, not as a row change.
    noise    text[] := ARRAY['updated_at', 'last_login_at', 'last_login_ip', 'failed_attempts',
                             'locked_until', 'lockout_count'];
    tenant   bigint;
    entity_id text;
BEGIN
    IF TG_OP = 'UPDATE' AND (old_row - noise) = (new_row - noise) THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'tenants' THEN
        tenant := (any_row ->> 'id')::bigint;
        entity_id := any_row ->> 'id';
    ELSE
        tenant := (any_row ->> 'tenant_id')::bigint;
        entity_id := coalesce(any_row ->> 'id', any_row ->> 'inbox_id', any_row ->> 'tenant_id');
    END IF;
    PERFORM audit.log(TG_TABLE_NAME || '.' || lower(TG_OP), TG_TABLE_NAME, entity_id,
                      old_row, new_row, tenant);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION audit.record_change() IS 'AFTER row trigger: records inserts, updates and deletes with old and new values (password hashes redacted).';


-- ----------------------------------------------------------------------------------------------
-- analytics and etl (011, 012, 013, 014, 015)

CREATE OR REPLACE FUNCTION analytics.search_fold(s text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(translate(s, 'áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ',
                                     'aaaaaeeeeiiiiooooouuuucnaaaaaeeeeiiiiooooouuuucn')) $$;
COMMENT ON FUNCTION analytics.search_fold(text) IS 'Search folding: Portuguese accents removed (both cases, so it holds under any LC_CTYPE, even C), then lower case; internal/etl folds alike.';
GRANT EXECUTE ON FUNCTION analytics.search_fold(text) TO geniai_tenant, geniai_staff, geniai_etl;

CREATE OR REPLACE FUNCTION analytics.search_document(contact_name text, texts text[]) RETURNS tsvector
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

CREATE OR REPLACE FUNCTION analytics.search_query(q text) RETURNS tsquery
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
COMMENT ON FUNCTION analytics.conversation_filter(bigint, date, date, integer[], text, text, smallint, text, text, smallint, smallint, smallint, smallint, text) IS
    'The conversations behind a dashboard number: tenant, created_day period (tenant timezone), inboxes, channel, label, status, funnel stage, metric flag, first-reply bucket, weekday, hour, CSAT rating and search (contact name, phone digits, message text). NULL means no filter.';
GRANT EXECUTE ON FUNCTION analytics.conversation_filter(bigint, date, date, integer[], text, text, smallint, text, text, smallint, smallint, smallint, smallint, text)
    TO geniai_tenant, geniai_staff;

CREATE OR REPLACE FUNCTION etl.stored_conversations(p_tenant bigint, p_ids integer[]) RETURNS integer[]
    LANGUAGE sql STABLE
    SET plan_cache_mode = force_generic_plan
    AS $$
    SELECT coalesce(array_agg(c.conversation_id), '{}')
    FROM unnest(p_ids) AS i(id)
    JOIN analytics.conversations c ON c.tenant_id = p_tenant AND c.conversation_id = i.id
$$;
COMMENT ON FUNCTION etl.stored_conversations(bigint, integer[]) IS 'Ids among p_ids that the tenant has in analytics.conversations (primary-key probes, generic plan).';
GRANT EXECUTE ON FUNCTION etl.stored_conversations(bigint, integer[]) TO geniai_etl;

CREATE OR REPLACE FUNCTION etl.fingerprint_hash(conversation_id integer, updated_at timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT timestamp_hash_extended(updated_at AT TIME ZONE 'UTC', conversation_id::bigint) $$;
COMMENT ON FUNCTION etl.fingerprint_hash(integer, timestamptz) IS 'Hash of a conversation id and its source updated_at, summed into the id-set fingerprint.';
GRANT EXECUTE ON FUNCTION etl.fingerprint_hash(integer, timestamptz) TO geniai_etl;

CREATE OR REPLACE FUNCTION analytics.inbox_hist_entries(packed bytea)
    RETURNS TABLE (inbox_id integer, bucket smallint, conversations integer)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    SELECT (get_byte(packed, o) * 16777216::bigint + get_byte(packed, o + 1) * 65536
            + get_byte(packed, o + 2) * 256 + get_byte(packed, o + 3))::integer,
           (get_byte(packed, o + 4) * 256 + get_byte(packed, o + 5))::smallint,
           (get_byte(packed, o + 6) * 16777216::bigint + get_byte(packed, o + 7) * 65536
            + get_byte(packed, o + 8) * 256 + get_byte(packed, o + 9))::integer
    FROM generate_series(0, length(packed) - 10, 10) AS o
    $$;
COMMENT ON FUNCTION analytics.inbox_hist_entries(bytea) IS 'Entries (inbox, bucket, conversations) of a packed analytics.tenant_daily_hist.by_inbox.';
GRANT EXECUTE ON FUNCTION analytics.inbox_hist_entries(bytea) TO geniai_tenant, geniai_staff, geniai_etl;

-- 013's etl.refresh_daily_stats, renamed etl.refresh_inbox_rollups by 014.
CREATE OR REPLACE FUNCTION etl.refresh_inbox_rollups(p_days date[]) RETURNS void
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

    -- Distributions: one grouped pass per metric (cheaper than one pass over four times the
    -- rows), then one histogram row per day, inbox and metric, and one per day and metric over
    -- every inbox (with, for the first reply, every inbox's histogram packed).
    DELETE FROM analytics.daily_hist h
    WHERE h.tenant_id = t AND (p_days IS NULL OR h.day = ANY (p_days));
    DELETE FROM analytics.tenant_daily_hist h
    WHERE h.tenant_id = t AND (p_days IS NULL OR h.day = ANY (p_days));
    WITH counted AS MATERIALIZED (
        SELECT c.created_day AS day, c.inbox_id, 1::smallint AS metric,
               analytics.hist_bucket(c.first_reply_seconds) AS bucket, count(*)::integer AS n
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_reply_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 2::smallint, analytics.hist_bucket(c.first_human_reply_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_human_reply_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 3::smallint, analytics.hist_bucket(c.resolution_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.resolution_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 4::smallint, c.created_hour, count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
        GROUP BY 1, 2, 4
    ), per_inbox AS (
        INSERT INTO analytics.daily_hist (tenant_id, day, inbox_id, metric, buckets, counts)
        SELECT t, k.day, k.inbox_id, k.metric, array_agg(k.bucket ORDER BY k.bucket), array_agg(k.n ORDER BY k.bucket)
        FROM counted k
        GROUP BY k.day, k.inbox_id, k.metric
    )
    INSERT INTO analytics.tenant_daily_hist (tenant_id, day, metric, buckets, counts, by_inbox)
    SELECT t, s.day, s.metric, s.buckets, s.counts, b.by_inbox
    FROM (SELECT x.day, x.metric, array_agg(x.bucket ORDER BY x.bucket) AS buckets, array_agg(x.n ORDER BY x.bucket) AS counts
          FROM (SELECT k.day, k.metric, k.bucket, sum(k.n)::integer AS n FROM counted k GROUP BY 1, 2, 3) x
          GROUP BY x.day, x.metric) s
    LEFT JOIN (SELECT k.day, string_agg(int4send(k.inbox_id) || int2send(k.bucket) || int4send(k.n), ''::bytea
                                        ORDER BY k.inbox_id, k.bucket) AS by_inbox
               FROM counted k
               WHERE k.metric = 1
               GROUP BY k.day) b ON s.metric = 1 AND b.day = s.day;

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
COMMENT ON FUNCTION etl.refresh_inbox_rollups(date[]) IS 'Rebuilds the per-inbox daily rollups (daily_stats, daily_hist, tenant_daily_hist, daily_labels) of the current tenant for the given days (NULL: all) from analytics.conversations.';

GRANT EXECUTE ON FUNCTION etl.refresh_inbox_rollups(date[]) TO geniai_etl;

-- ----------------------------------------------------------------------------------------------
-- The trigger that 003's edit added.

CREATE OR REPLACE TRIGGER users_auth_version_forward BEFORE UPDATE OF auth_version ON app.users
    FOR EACH ROW EXECUTE FUNCTION app.users_auth_version_forward();

-- ----------------------------------------------------------------------------------------------
-- Staff read policies: the first versions of 002-005 and 009 let geniai_staff read with
-- USING (true); today they require a staff app role.

DROP POLICY IF EXISTS events_staff_read ON audit.events;
CREATE POLICY events_staff_read ON audit.events FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));

DROP POLICY IF EXISTS tenants_staff_read ON app.tenants;
CREATE POLICY tenants_staff_read ON app.tenants FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));

DROP POLICY IF EXISTS users_staff_read ON app.users;
CREATE POLICY users_staff_read ON app.users FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));

DROP POLICY IF EXISTS tenant_inboxes_staff_read ON app.tenant_inboxes;
CREATE POLICY tenant_inboxes_staff_read ON app.tenant_inboxes FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));

DROP POLICY IF EXISTS tenant_settings_staff_read ON app.tenant_settings;
CREATE POLICY tenant_settings_staff_read ON app.tenant_settings FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));

DROP POLICY IF EXISTS conversations_staff_read ON analytics.conversations;
CREATE POLICY conversations_staff_read ON analytics.conversations FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));

DROP POLICY IF EXISTS runs_staff_read ON etl.runs;
CREATE POLICY runs_staff_read ON etl.runs FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));

DROP POLICY IF EXISTS watermarks_staff_read ON etl.watermarks;
CREATE POLICY watermarks_staff_read ON etl.watermarks FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));

DROP POLICY IF EXISTS daily_stats_staff_read ON analytics.daily_stats;
CREATE POLICY daily_stats_staff_read ON analytics.daily_stats FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));

-- ----------------------------------------------------------------------------------------------
-- Comments changed by the edits of 013 and 015.

COMMENT ON COLUMN etl.runs.messages IS 'Transcript messages the run wrote: every message of a new conversation, and for a stored one each staged message its stored transcript lacked or held otherwise.';
COMMENT ON TABLE analytics.tenant_daily_hist IS 'Per tenant, creation day and metric: analytics.daily_hist summed over every inbox (buckets ascending, counts alike). Rebuilt by etl.refresh_daily_stats.';
COMMENT ON COLUMN analytics.tenant_daily_hist.by_inbox IS 'First reply (metric 1) only: the day''s analytics.daily_hist rows of every inbox, packed (analytics.inbox_hist_entries reads it).';

---- create above / drop below ----

-- Nothing to undo: the definitions above are the ones migrations 001-020 give a fresh database.
