-- Search finds what the contact wrote by default (docs/adr/026-search-by-author.md). A
-- conversation's document keeps the words of the contact's name and messages plain and the words
-- only the bot, an agent or an activity message wrote with a leading '~' (no typed word holds
-- one), each word once, the contact's first within the 256 kB budget. analytics.search_query
-- (unchanged) finds the plain words; analytics.search_query_all finds either. The ETL computes
-- the same words in Go (internal/etl/search.go; a test holds both equal); every stored document
-- is rebuilt here from its transcript.
CREATE FUNCTION analytics.search_document(contact_name text, texts text[], types smallint[]) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    WITH msg AS (
        SELECT m.t, m.ty FROM unnest(texts, types) AS m (t, ty)
    ), contact AS (
        SELECT DISTINCT w
        FROM regexp_split_to_table(analytics.search_fold(coalesce(contact_name, '') || ' '
                                       || coalesce((SELECT string_agg(t, ' ') FROM msg WHERE ty = 0), '')),
                                   '[^[:alnum:]]+') w
        WHERE w <> '' AND length(w) <= 100
    ), other AS (
        SELECT DISTINCT '~' || w AS w
        FROM regexp_split_to_table(analytics.search_fold(coalesce((SELECT string_agg(t, ' ') FROM msg WHERE ty IS DISTINCT FROM 0), '')),
                                   '[^[:alnum:]]+') w
        WHERE w <> '' AND length(w) <= 100 AND w NOT IN (SELECT contact.w FROM contact)
    ), words AS (
        SELECT w, 0 AS k FROM contact UNION ALL SELECT w, 1 FROM other
    )
    SELECT array_to_tsvector(ARRAY(
        SELECT w
        FROM (SELECT w, sum(octet_length(w) + 1) OVER (ORDER BY k, w COLLATE "C") AS used FROM words) budget
        -- A tsvector holds at most 1 MB: the contact's words, then the others, while 256 kB last.
        WHERE used <= 262144))
$$;
COMMENT ON FUNCTION analytics.search_document(text, text[], smallint[]) IS
    'Search document of a conversation: distinct folded words of the contact name and incoming messages, then, with a leading ~, those only other public messages hold (the ETL stages the same words, computed in Go).';
REVOKE ALL ON FUNCTION analytics.search_document(text, text[], smallint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.search_document(text, text[], smallint[]) TO geniai_etl;

DROP FUNCTION analytics.search_document(text, text[]);

CREATE FUNCTION analytics.search_query_all(q text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    SELECT CASE WHEN w = '' THEN NULL ELSE w::tsquery END
    FROM (SELECT array_to_string(ARRAY(
              SELECT '(' || to_tsquery('simple', left(t, 200) || ':*')::text || ' | '
                     || quote_literal('~' || left(t, 200)) || ':*)'
              FROM regexp_split_to_table(analytics.search_fold(q), '[^[:alnum:]]+') t
              WHERE length(t) >= 2), ' & ') AS w) words
$$;
COMMENT ON FUNCTION analytics.search_query_all(q text) IS
    'analytics.search_query over every message: each folded word of 2 or more characters as a prefix of a word the contact or anyone else wrote, all required; NULL when none.';
REVOKE ALL ON FUNCTION analytics.search_query_all(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.search_query_all(text) TO geniai_tenant, geniai_staff;

DROP FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz);
CREATE FUNCTION analytics.conversation_matches(
    c_inbox_id integer, c_channel_type text, c_labels text[], c_status smallint, c_is_lead boolean,
    c_is_visit boolean, c_is_converted boolean, c_unanswered boolean, c_first_reply_seconds double precision,
    c_first_reply_business_seconds double precision, c_first_human_reply_seconds double precision,
    c_resolved boolean, c_bot_resolved boolean, c_bot_messages integer, c_handoff boolean,
    c_handoff_requested_at timestamptz, c_human_wait_seconds double precision, c_human_wait_from timestamptz,
    c_human_wait_reply_at timestamptz, c_human_wait_business_seconds double precision, c_human_wait_due_at timestamptz,
    c_csat_rating smallint, c_created_dow smallint, c_created_hour smallint, c_contact_name text,
    c_contact_phone text, c_search tsvector, c_display_id integer,
    p_inboxes integer[], p_channel text, p_label text, p_status smallint, p_stage text, p_flag text,
    p_frt_bucket smallint, p_dow smallint, p_hour smallint, p_csat smallint, p_search text,
    p_business boolean, p_sla_seconds integer, p_synced_at timestamptz,
    p_search_all boolean) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT (p_inboxes IS NULL OR c_inbox_id = ANY (p_inboxes))
       AND (p_channel IS NULL OR c_channel_type = p_channel)
       AND (p_label IS NULL OR c_labels @> ARRAY[p_label])
       AND (p_status IS NULL OR c_status = p_status)
       AND (p_stage IS NULL
            OR (p_stage = 'lead' AND c_is_lead)
            OR (p_stage = 'visit' AND c_is_visit)
            OR (p_stage = 'converted' AND c_is_converted)
            OR (p_stage = 'none' AND NOT c_is_lead))
       AND (p_flag IS NULL
            OR (p_flag = 'unanswered' AND c_unanswered)
            OR (p_flag = 'unanswered_lead' AND c_unanswered AND c_is_lead)
            OR (p_flag = 'replied' AND c_first_reply_seconds IS NOT NULL)
            OR (p_flag = 'human_replied' AND c_first_human_reply_seconds IS NOT NULL)
            OR (p_flag = 'resolved' AND c_resolved)
            OR (p_flag = 'bot_resolved' AND c_bot_resolved)
            OR (p_flag = 'with_bot' AND c_bot_messages > 0)
            OR (p_flag = 'handoff' AND c_handoff)
            OR (p_flag = 'csat' AND c_csat_rating IS NOT NULL)
            OR (p_flag = 'satisfied' AND c_csat_rating >= 4)
            OR (p_flag = 'handoff_requested' AND c_handoff_requested_at IS NOT NULL)
            OR (p_flag = 'human_wait' AND c_human_wait_seconds IS NOT NULL)
            -- 'sla' any state, 'sla_within' and 'sla_missed' one: 'sla_' || state starts with the
            -- flag exactly then (a NULL state, no first wait judged, matches none).
            OR (p_flag IN ('sla', 'sla_within', 'sla_missed')
                AND starts_with(coalesce('sla_' || analytics.sla_state(c_human_wait_from, c_human_wait_reply_at,
                                                                       c_human_wait_business_seconds, c_human_wait_due_at,
                                                                       p_sla_seconds, p_synced_at), ''), p_flag)))
       AND (p_frt_bucket IS NULL
            OR analytics.frt_bucket(CASE WHEN p_business THEN c_first_reply_business_seconds ELSE c_first_reply_seconds END) = p_frt_bucket)
       AND (p_dow IS NULL OR c_created_dow = p_dow)
       AND (p_hour IS NULL OR c_created_hour = p_hour)
       AND (p_csat IS NULL OR c_csat_rating = p_csat)
       AND (p_search IS NULL
            -- "#1374" is the conversation number (Chatwoot's display id) and nothing else.
            OR (p_search ~ '^#\s*[0-9]{1,9}$'
                AND c_display_id = substring(p_search FROM '[0-9]+')::integer)
            OR (p_search !~ '^#\s*[0-9]{1,9}$'
                AND (-- A bare number is also a conversation number.
                     (p_search ~ '^[0-9]{1,9}$' AND c_display_id = p_search::integer)
                     OR c_contact_name ILIKE '%' || analytics.like_escape(p_search) || '%'
                     OR (length(regexp_replace(p_search, '\D', '', 'g')) >= 3
                         AND c_contact_phone LIKE '%' || regexp_replace(p_search, '\D', '', 'g') || '%')
                     -- The contact's words by default; with p_search_all the bot's and agents' too.
                     OR c_search @@ CASE WHEN p_search_all THEN analytics.search_query_all(p_search)
                                         ELSE analytics.search_query(p_search) END)))
$$;
COMMENT ON FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz, boolean) IS
    'Whether a conversation (its columns) passes the dashboard''s filters: the single definition of the conversations behind every number, chart and list, applied to analytics.conversations with the tenant and period; the search reads the contact''s words, or every message''s with p_search_all.';
REVOKE ALL ON FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz, boolean) TO geniai_tenant, geniai_staff;

COMMENT ON COLUMN analytics.conversations.search IS 'Search document (analytics.search_document): folded words of the contact name and incoming messages, and with a leading ~ those only other public messages hold.';

COMMENT ON COLUMN etl.stage_conversations.search_words IS 'Distinct folded words of the contact name and incoming messages, then with a leading ~ those only other public messages hold (internal/etl), the search document to be.';

-- Every stored document again, by author. The owner is subject to RLS (FORCE) and has no policy;
-- lifting FORCE inside this transaction is invisible to others.
ALTER TABLE analytics.conversations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.transcripts NO FORCE ROW LEVEL SECURITY;
UPDATE analytics.conversations c
SET search = analytics.search_document(c.contact_name,
    coalesce((SELECT t.message_contents FROM analytics.transcripts t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.conversation_id), '{}'),
    coalesce((SELECT t.message_types FROM analytics.transcripts t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.conversation_id), '{}'));
ALTER TABLE analytics.conversations FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.transcripts FORCE ROW LEVEL SECURITY;

---- create above / drop below ----

DROP FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz, boolean);
CREATE FUNCTION analytics.conversation_matches(
    c_inbox_id integer, c_channel_type text, c_labels text[], c_status smallint, c_is_lead boolean,
    c_is_visit boolean, c_is_converted boolean, c_unanswered boolean, c_first_reply_seconds double precision,
    c_first_reply_business_seconds double precision, c_first_human_reply_seconds double precision,
    c_resolved boolean, c_bot_resolved boolean, c_bot_messages integer, c_handoff boolean,
    c_handoff_requested_at timestamptz, c_human_wait_seconds double precision, c_human_wait_from timestamptz,
    c_human_wait_reply_at timestamptz, c_human_wait_business_seconds double precision, c_human_wait_due_at timestamptz,
    c_csat_rating smallint, c_created_dow smallint, c_created_hour smallint, c_contact_name text,
    c_contact_phone text, c_search tsvector, c_display_id integer,
    p_inboxes integer[], p_channel text, p_label text, p_status smallint, p_stage text, p_flag text,
    p_frt_bucket smallint, p_dow smallint, p_hour smallint, p_csat smallint, p_search text,
    p_business boolean, p_sla_seconds integer, p_synced_at timestamptz) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT (p_inboxes IS NULL OR c_inbox_id = ANY (p_inboxes))
       AND (p_channel IS NULL OR c_channel_type = p_channel)
       AND (p_label IS NULL OR c_labels @> ARRAY[p_label])
       AND (p_status IS NULL OR c_status = p_status)
       AND (p_stage IS NULL
            OR (p_stage = 'lead' AND c_is_lead)
            OR (p_stage = 'visit' AND c_is_visit)
            OR (p_stage = 'converted' AND c_is_converted)
            OR (p_stage = 'none' AND NOT c_is_lead))
       AND (p_flag IS NULL
            OR (p_flag = 'unanswered' AND c_unanswered)
            OR (p_flag = 'unanswered_lead' AND c_unanswered AND c_is_lead)
            OR (p_flag = 'replied' AND c_first_reply_seconds IS NOT NULL)
            OR (p_flag = 'human_replied' AND c_first_human_reply_seconds IS NOT NULL)
            OR (p_flag = 'resolved' AND c_resolved)
            OR (p_flag = 'bot_resolved' AND c_bot_resolved)
            OR (p_flag = 'with_bot' AND c_bot_messages > 0)
            OR (p_flag = 'handoff' AND c_handoff)
            OR (p_flag = 'csat' AND c_csat_rating IS NOT NULL)
            OR (p_flag = 'satisfied' AND c_csat_rating >= 4)
            OR (p_flag = 'handoff_requested' AND c_handoff_requested_at IS NOT NULL)
            OR (p_flag = 'human_wait' AND c_human_wait_seconds IS NOT NULL)
            -- 'sla' any state, 'sla_within' and 'sla_missed' one: 'sla_' || state starts with the
            -- flag exactly then (a NULL state, no first wait judged, matches none).
            OR (p_flag IN ('sla', 'sla_within', 'sla_missed')
                AND starts_with(coalesce('sla_' || analytics.sla_state(c_human_wait_from, c_human_wait_reply_at,
                                                                       c_human_wait_business_seconds, c_human_wait_due_at,
                                                                       p_sla_seconds, p_synced_at), ''), p_flag)))
       AND (p_frt_bucket IS NULL
            OR analytics.frt_bucket(CASE WHEN p_business THEN c_first_reply_business_seconds ELSE c_first_reply_seconds END) = p_frt_bucket)
       AND (p_dow IS NULL OR c_created_dow = p_dow)
       AND (p_hour IS NULL OR c_created_hour = p_hour)
       AND (p_csat IS NULL OR c_csat_rating = p_csat)
       AND (p_search IS NULL
            -- "#1374" is the conversation number (Chatwoot's display id) and nothing else.
            OR (p_search ~ '^#\s*[0-9]{1,9}$'
                AND c_display_id = substring(p_search FROM '[0-9]+')::integer)
            OR (p_search !~ '^#\s*[0-9]{1,9}$'
                AND (-- A bare number is also a conversation number.
                     (p_search ~ '^[0-9]{1,9}$' AND c_display_id = p_search::integer)
                     OR c_contact_name ILIKE '%' || analytics.like_escape(p_search) || '%'
                     OR (length(regexp_replace(p_search, '\D', '', 'g')) >= 3
                         AND c_contact_phone LIKE '%' || regexp_replace(p_search, '\D', '', 'g') || '%')
                     OR c_search @@ analytics.search_query(p_search))))
$$;
COMMENT ON FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz) IS
    'Whether a conversation (its columns) passes the dashboard''s filters: the single definition of the conversations behind every number, chart and list, applied to analytics.conversations with the tenant and period.';
REVOKE ALL ON FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz) TO geniai_tenant, geniai_staff;

DROP FUNCTION analytics.search_query_all(text);

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

COMMENT ON FUNCTION analytics.search_document(text, text[]) IS
    'Search document of a conversation: distinct folded words of the contact name and public messages (the ETL stages the same words, computed in Go).';
REVOKE ALL ON FUNCTION analytics.search_document(text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.search_document(text, text[]) TO geniai_etl;
DROP FUNCTION analytics.search_document(text, text[], smallint[]);

COMMENT ON COLUMN analytics.conversations.search IS 'Search document (analytics.search_document): folded words of the contact name and public messages.';

ALTER TABLE analytics.conversations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.transcripts NO FORCE ROW LEVEL SECURITY;
UPDATE analytics.conversations c
SET search = analytics.search_document(c.contact_name,
    coalesce((SELECT t.message_contents FROM analytics.transcripts t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.conversation_id), '{}'));
ALTER TABLE analytics.conversations FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.transcripts FORCE ROW LEVEL SECURITY;
COMMENT ON COLUMN etl.stage_conversations.search_words IS 'Distinct folded words of the contact name and public messages (internal/etl), the search document to be.';
