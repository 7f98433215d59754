-- name: DemoInsertConversations :exec
-- DemoInsertConversations generates contacts, conversations, messages,
-- reporting_events, csat_survey_responses and taggings for the accounts, inboxes,
-- agents, teams and labels already in the database (the DemoInsert* catalogue
-- queries). One statement derives every table from one plan, so they agree with each
-- other by construction: messages, conversation timestamps and status, reporting
-- events, CSAT and labels.
--
-- How it works:
--  1. slot, alloc: the last @days local days (America/Sao_Paulo) are cut into hourly
--     slots weighted by weekday and hour (Monday peak, quiet Sundays and nights); the
--     @conversations conversations are allotted to slots by cumulative rounding.
--  2. conv: each conversation draws its inbox, contact, scenario (bot resolves, bot
--     answers and the contact vanishes, handoff to a human, unanswered, outbound
--     template, bot-only, notes-only) and the optional parts of its story.
--  3. step: the story becomes a list of steps from the script table; a step's time is
--     the conversation's start plus the running sum of the gaps before it. Steps after
--     @now have not happened yet and are dropped, so recent conversations are still
--     open, pending or snoozed.
--  4. The steps that happened become the messages (built while inserting them); the
--     conversation status is the one after its last status-changing step; reporting
--     events, CSAT answers, labels and conversation timestamps are read off the steps.
--
-- Randomness is hashint8extended(key, seed), one derived seed per purpose; nothing
-- else varies, so the same parameters give the same rows, ids included.
-- hashint8extended hashes only 32 bits of its key (it folds a bigint to hi XOR lo, so
-- that int4 and int8 hash alike): a key must be unique among the keys of its seed AND
-- lie in [0, 2^32), or distinct keys give the same draws. So no key holds a timestamp
-- or a hash: a conversation's key k is its rank 1..@conversations in slot order, and
-- the derived keys k * 16 + draw and k * 128 + step stay below 2^32 for the documented
-- limits (generate.go: maxConversations). Per-account or per-kind draws vary the seed,
-- not the key. Performance:
-- the sorts and window functions run over narrow step rows, and the wide message rows
-- are only ever built inside the INSERT; OFFSET 0 keeps the planner from inlining a
-- subquery whose expressions (hashes, the chosen text) are used several times. Column
-- lists are explicit because sqlc rewrites "x.*" inside CTEs, and constant tables are
-- UNION ALL because sqlc does not resolve the column aliases of VALUES.
WITH
params AS (
    SELECT @seed::bigint AS seed, @now::timestamp AS now, @days::int AS days, @conversations::int AS n_conv
),
p AS (
    SELECT seed, now, days, n_conv,
           (now AT TIME ZONE 'UTC') AT TIME ZONE 'America/Sao_Paulo' AS local_now,
           -- One seed per purpose, so that e.g. message gaps and message texts are
           -- independent draws.
           hashint8extended(1, seed) AS s_slot,
           hashint8extended(2, seed) AS s_conv,
           hashint8extended(3, seed) AS s_step,
           hashint8extended(4, seed) AS s_msg,
           hashint8extended(5, seed) AS s_event,
           hashint8extended(6, seed) AS s_contact,
           hashint8extended(7, seed) AS s_text,
           hashint8extended(8, seed) AS s_msg2,
           hashint8extended(9, seed) AS s_account,
           -- reporting events, one per event_kind.name_no
           ARRAY[hashint8extended(10, seed), hashint8extended(11, seed), hashint8extended(12, seed),
                 hashint8extended(13, seed), hashint8extended(14, seed), hashint8extended(15, seed)] AS s_events
    FROM params
),
    -- Reception opening hours (local time, seconds since midnight; Sunday closed). They
    -- drive both when humans answer and the inboxes' business-hours figures.
opening AS (
    SELECT 1 AS dow, 25200 AS open_s, 79200 AS close_s
    UNION ALL SELECT 2, 25200, 79200
    UNION ALL SELECT 3, 25200, 79200
    UNION ALL SELECT 4, 25200, 79200
    UNION ALL SELECT 5, 25200, 79200
    UNION ALL SELECT 6, 28800, 50400
),

    -- 1. Seasonality --------------------------------------------------------------------
slot AS (
    SELECT s.slot_start,
           s.slot_secs,
           round((
               -- weekday: Monday peak, weekend dip, quiet Sunday
               (ARRAY[1.25, 1.15, 1.10, 1.05, 0.95, 0.60, 0.35])[extract(isodow FROM s.slot_start)::int]
               -- hour: bot gets some night traffic, peaks after work (18-19 h)
             * (ARRAY[0.30, 0.15, 0.08, 0.05, 0.05, 0.12, 0.45, 1.00, 1.60, 1.80, 1.70, 1.50,
                      1.30, 1.30, 1.50, 1.60, 1.70, 1.90, 2.10, 2.00, 1.60, 1.10, 0.70, 0.45])[h + 1]
             * CASE WHEN extract(isodow FROM s.slot_start) >= 6 AND h >= 14 THEN 0.6 ELSE 1 END
               -- day-to-day noise (±25 %) keyed by calendar date, and 25 % growth over the window
             * (0.75 + 0.5 * ((hashint8extended((s.slot_start::date - date '2000-01-01')::bigint, p.s_slot) & 1048575)::float8 / 1048576))
             * (1 + 0.25 * (p.days - d)::float8 / p.days)
               -- the current hour is only partly over
             * s.slot_secs / 3600
           )::numeric, 9) AS w
    FROM p
    CROSS JOIN generate_series(0, p.days - 1) AS d
    CROSS JOIN generate_series(0, 23) AS h
    CROSS JOIN LATERAL (
        SELECT date_trunc('day', p.local_now) - make_interval(days => d) + make_interval(hours => h) AS slot_start,
               least(3600, extract(epoch FROM p.local_now - (date_trunc('day', p.local_now) - make_interval(days => d) + make_interval(hours => h)))::float8 - 2) AS slot_secs
    ) AS s
    WHERE s.slot_secs > 0
),
alloc AS (
    -- Cumulative rounding in exact numeric arithmetic: the counts add up to exactly
    -- @conversations. Slot s holds the conversations ranked k_before + 1 .. k_end; the
    -- next slot starts at this k_end (same numeric expression), so the ranks 1..@conversations
    -- are each used exactly once.
    SELECT slot_start, slot_secs, k_before, (k_end - k_before)::int AS cnt
    FROM (
        SELECT slot_start, slot_secs,
               round(p.n_conv * (sum(w) OVER cum - w) / sum(w) OVER ())::bigint AS k_before,
               round(p.n_conv * sum(w) OVER cum / sum(w) OVER ())::bigint AS k_end
        FROM slot
        CROSS JOIN p
        WINDOW cum AS (ORDER BY slot_start ROWS UNBOUNDED PRECEDING)
    ) AS x
),
conv0 AS (
    -- k, the conversation's key for all its draws, is its rank: unique and below
    -- 2^32 (see the header). Draw 14 of the conversation places it in its slot.
    SELECT g.k,
           a.slot_start + make_interval(secs => a.slot_secs * ((hashint8extended(g.k * 16 + 14, p.s_conv) & 1099511627775)::float8 / 1099511627776)) AS created_local
    FROM alloc a
    CROSS JOIN p
    CROSS JOIN LATERAL (
        SELECT a.k_before + i AS k
        FROM generate_series(1, a.cnt) AS i
    ) AS g
),

    -- 2. Conversation plan ---------------------------------------------------------------
ibx0 AS (
    SELECT i.id, i.account_id, i.channel_type, i.timezone, i.working_hours_enabled, i.csat_survey_enabled,
           acc.name AS account_name,
           -- 0 no bot (web widget: humans only), 2 Captain AI, 1 a classic AgentBot
           CASE WHEN i.channel_type = 'Channel::WebWidget' THEN 0
                WHEN i.channel_type = 'Channel::Instagram' OR i.account_id % 3 = 0 THEN 2
                ELSE 1 END AS bot,
           -- traffic share: the first (reception) inbox and the first accounts are busiest
           (CASE WHEN row_number() OVER (PARTITION BY i.account_id ORDER BY i.id) = 1 THEN 1.0
                 WHEN i.channel_type = 'Channel::Whatsapp' THEN 0.55
                 WHEN i.channel_type = 'Channel::Api' THEN 0.5
                 WHEN i.channel_type = 'Channel::Instagram' THEN 0.35
                 ELSE 0.2 END)
           / (1 + 0.3 * (i.account_id - 1)) AS weight,
           (ARRAY[11, 21, 31, 11, 41, 51, 61, 71, 81, 85, 19, 48])[(i.account_id - 1) % 12 + 1] AS ddd,
           109.90 + (i.account_id % 5) * 20 AS price_month
    FROM inboxes i
    JOIN accounts acc ON acc.id = i.account_id
),
ibx AS (
    SELECT id, account_id, channel_type, timezone, working_hours_enabled, csat_survey_enabled, account_name,
           bot, ddd,
           row_number() OVER (ORDER BY id) AS rn,
           ((sum(weight) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) - weight) / sum(weight) OVER ())::float8 AS lo,
           CASE bot WHEN 1 THEN 'AgentBot' WHEN 2 THEN 'Captain::Assistant' END AS bot_sender_type,
           CASE bot WHEN 1 THEN 'Assistente Virtual' WHEN 2 THEN 'Assistente IA' END AS bot_name,
           replace(to_char(price_month, 'FM9990.00'), '.', ',') AS price_month_txt,
           replace(to_char(price_month - 15, 'FM9990.00'), '.', ',') AS price_quarter_txt,
           replace(to_char(price_month - 30, 'FM9990.00'), '.', ',') AS price_year_txt,
           channel_type IN ('Channel::Whatsapp', 'Channel::Api') AS whatsapp
    FROM ibx0
),
ibx_bounds AS (
    SELECT array_agg(lo ORDER BY rn) AS los FROM ibx
),
agents AS (
    SELECT au.account_id,
           array_agg(u.id ORDER BY u.id) AS ids,
           array_agg(u.display_name ORDER BY u.id) AS first_names,
           array_agg(u.name ORDER BY u.id) AS names
    FROM account_users au
    JOIN users u ON u.id = au.user_id
    WHERE au.role = 0
    GROUP BY au.account_id
),
conv1 AS (
    -- Narrow rows first: the sorts that number the conversations stay cheap.
    SELECT c.k, c.created_local,
           (c.created_local AT TIME ZONE 'America/Sao_Paulo') AT TIME ZONE 'UTC' AS created_at,
           ibx.id AS inbox_id, ibx.account_id
    FROM (
        -- pick the inbox by its traffic share (u[1] below is the same draw). The bucket is
        -- computed here and the bounds array left behind (OFFSET 0 keeps this apart): joined
        -- into every row, 1,001 accounts' bounds (16 kB) made the join's sort spill 600 MB per
        -- 40,000 conversations.
        SELECT c0.k, c0.created_local,
               width_bucket((hashint8extended(c0.k * 16, p.s_conv) & 1048575)::float8 / 1048576, b.los) AS rn
        FROM conv0 c0
        CROSS JOIN p
        CROSS JOIN ibx_bounds b
        OFFSET 0
    ) c
    JOIN ibx ON ibx.rn = c.rn
),
conv2 AS (
    SELECT c.k, c.created_local, c.created_at, c.inbox_id, c.account_id,
           row_number() OVER (ORDER BY c.created_at, c.k) AS id,
           -- the number Chatwoot shows, per account
           row_number() OVER (PARTITION BY c.account_id ORDER BY c.created_at, c.k) AS display_id,
           count(*) OVER (PARTITION BY c.account_id) AS account_conversations
    FROM conv1 c
),
conv2b AS (
    SELECT c.k, c.created_local, c.created_at, r.u, c.inbox_id, c.account_id, ibx.account_name, ibx.channel_type,
           ibx.timezone, ibx.working_hours_enabled, ibx.csat_survey_enabled, ibx.bot, ibx.bot_sender_type, ibx.bot_name,
           ibx.ddd, ibx.whatsapp, ibx.price_month_txt, ibx.price_quarter_txt, ibx.price_year_txt,
           c.id, c.display_id,
           -- Each account has ~0.8 contacts per conversation; the skew makes some
           -- contacts come back several times.
           floor(greatest(1, ceil(0.8 * c.account_conversations)) * power(r.u[24], 1.15))::int AS contact_no,
           -- scenario: 1 bot resolves, 2 bot answers and the contact vanishes, 3 handoff to
           -- a human (or straight to a human without a bot), 4 nobody answers, 5 the gym
           -- starts with a WhatsApp template, 6 the bot starts (reminder), 7 private notes only
           CASE WHEN ibx.bot > 0 THEN
                CASE WHEN r.u[2] < 0.04 THEN 5 WHEN r.u[2] < 0.065 THEN 6 WHEN r.u[2] < 0.075 THEN 7
                     WHEN r.u[2] < 0.11 THEN 4 WHEN r.u[2] < 0.25 THEN 2 WHEN r.u[2] < 0.50 THEN 1 ELSE 3 END
           ELSE
                CASE WHEN r.u[2] < 0.05 THEN 5 WHEN r.u[2] < 0.065 THEN 7 WHEN r.u[2] < 0.14 THEN 4 ELSE 3 END
           END AS scn0,
           -- what the contact wants: 1 prices, 2 trial class, 3 opening hours, 4 visit,
           -- 5 cancellation, 6 other
           CASE WHEN r.u[3] < 0.33 THEN 1 WHEN r.u[3] < 0.55 THEN 2 WHEN r.u[3] < 0.72 THEN 3
                WHEN r.u[3] < 0.80 THEN 4 WHEN r.u[3] < 0.88 THEN 5 ELSE 6 END AS intent
    FROM conv2 c
    CROSS JOIN p
    JOIN ibx ON ibx.id = c.inbox_id
    -- 42 independent uniforms in [0, 1) per conversation: three 20-bit slices of each of
    -- 14 hashes. (OFFSET 0 keeps the planner from inlining, and so recomputing, the hashes.)
    CROSS JOIN LATERAL (
        SELECT
            hashint8extended(c.k * 16 + 0, p.s_conv) AS h0,
            hashint8extended(c.k * 16 + 1, p.s_conv) AS h1,
            hashint8extended(c.k * 16 + 2, p.s_conv) AS h2,
            hashint8extended(c.k * 16 + 3, p.s_conv) AS h3,
            hashint8extended(c.k * 16 + 4, p.s_conv) AS h4,
            hashint8extended(c.k * 16 + 5, p.s_conv) AS h5,
            hashint8extended(c.k * 16 + 6, p.s_conv) AS h6,
            hashint8extended(c.k * 16 + 7, p.s_conv) AS h7,
            hashint8extended(c.k * 16 + 8, p.s_conv) AS h8,
            hashint8extended(c.k * 16 + 9, p.s_conv) AS h9,
            hashint8extended(c.k * 16 + 10, p.s_conv) AS h10,
            hashint8extended(c.k * 16 + 11, p.s_conv) AS h11,
            hashint8extended(c.k * 16 + 12, p.s_conv) AS h12,
            hashint8extended(c.k * 16 + 13, p.s_conv) AS h13
        OFFSET 0
    ) AS h
    CROSS JOIN LATERAL (
        SELECT ARRAY[
            (h.h0 & 1048575)::float8 / 1048576, ((h.h0 >> 20) & 1048575)::float8 / 1048576, ((h.h0 >> 40) & 1048575)::float8 / 1048576,
            (h.h1 & 1048575)::float8 / 1048576, ((h.h1 >> 20) & 1048575)::float8 / 1048576, ((h.h1 >> 40) & 1048575)::float8 / 1048576,
            (h.h2 & 1048575)::float8 / 1048576, ((h.h2 >> 20) & 1048575)::float8 / 1048576, ((h.h2 >> 40) & 1048575)::float8 / 1048576,
            (h.h3 & 1048575)::float8 / 1048576, ((h.h3 >> 20) & 1048575)::float8 / 1048576, ((h.h3 >> 40) & 1048575)::float8 / 1048576,
            (h.h4 & 1048575)::float8 / 1048576, ((h.h4 >> 20) & 1048575)::float8 / 1048576, ((h.h4 >> 40) & 1048575)::float8 / 1048576,
            (h.h5 & 1048575)::float8 / 1048576, ((h.h5 >> 20) & 1048575)::float8 / 1048576, ((h.h5 >> 40) & 1048575)::float8 / 1048576,
            (h.h6 & 1048575)::float8 / 1048576, ((h.h6 >> 20) & 1048575)::float8 / 1048576, ((h.h6 >> 40) & 1048575)::float8 / 1048576,
            (h.h7 & 1048575)::float8 / 1048576, ((h.h7 >> 20) & 1048575)::float8 / 1048576, ((h.h7 >> 40) & 1048575)::float8 / 1048576,
            (h.h8 & 1048575)::float8 / 1048576, ((h.h8 >> 20) & 1048575)::float8 / 1048576, ((h.h8 >> 40) & 1048575)::float8 / 1048576,
            (h.h9 & 1048575)::float8 / 1048576, ((h.h9 >> 20) & 1048575)::float8 / 1048576, ((h.h9 >> 40) & 1048575)::float8 / 1048576,
            (h.h10 & 1048575)::float8 / 1048576, ((h.h10 >> 20) & 1048575)::float8 / 1048576, ((h.h10 >> 40) & 1048575)::float8 / 1048576,
            (h.h11 & 1048575)::float8 / 1048576, ((h.h11 >> 20) & 1048575)::float8 / 1048576, ((h.h11 >> 40) & 1048575)::float8 / 1048576,
            (h.h12 & 1048575)::float8 / 1048576, ((h.h12 >> 20) & 1048575)::float8 / 1048576, ((h.h12 >> 40) & 1048575)::float8 / 1048576,
            (h.h13 & 1048575)::float8 / 1048576, ((h.h13 >> 20) & 1048575)::float8 / 1048576, ((h.h13 >> 40) & 1048575)::float8 / 1048576
        ] AS u
    ) AS r
),
    -- Contacts: one row per (account, contact_no) actually used, numbered by first appearance.
contact AS (
    SELECT x.account_id, x.contact_no,
           row_number() OVER (ORDER BY x.first_at, x.account_id, x.contact_no) AS id,
           x.first_at, x.first_channel, x.ddd,
           -- draws 2 * contact_no and 2 * contact_no + 1 under a per-account seed
           hashint8extended(x.contact_no::bigint * 2, hashint8extended(x.account_id, p.s_account)) AS h,
           hashint8extended(x.contact_no::bigint * 2 + 1, hashint8extended(x.account_id, p.s_account)) AS h2
    FROM (
        SELECT account_id, contact_no, min(created_at) AS first_at,
               (array_agg(channel_type ORDER BY created_at, k))[1] AS first_channel,
               min(ddd) AS ddd
        FROM conv2b
        GROUP BY account_id, contact_no
    ) AS x
    CROSS JOIN p
),
contact_named AS (
    SELECT ct.account_id, ct.contact_no, ct.id, ct.first_at, ct.first_channel, ct.ddd, ct.h2,
           (ARRAY['Maria', 'Ana', 'Juliana', 'Fernanda', 'Patrícia', 'Aline', 'Camila', 'Amanda', 'Bruna',
                  'Letícia', 'Beatriz', 'Larissa', 'Gabriela', 'Vanessa', 'Jéssica', 'Carolina', 'Priscila',
                  'Renata', 'Tatiane', 'Luana', 'José', 'João', 'Carlos', 'Paulo', 'Lucas', 'Pedro',
                  'Gabriel', 'Rafael', 'Marcos', 'Bruno', 'Felipe', 'Gustavo', 'Rodrigo', 'Thiago',
                  'Leonardo', 'Matheus', 'André', 'Diego', 'Vinícius', 'Eduardo'])[1 + ((ct.h & 1048575) % 40)] AS first_name,
           (ARRAY['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira',
                  'Lima', 'Gomes', 'Costa', 'Ribeiro', 'Martins', 'Carvalho', 'Almeida', 'Lopes',
                  'Soares', 'Fernandes', 'Vieira', 'Barbosa', 'Rocha', 'Dias', 'Nascimento', 'Andrade',
                  'Moreira', 'Nunes', 'Marques', 'Machado', 'Mendes', 'Freitas'])[1 + (((ct.h >> 20) & 1048575) % 30)] AS last_name,
           ((ct.h >> 40) & 1023)::float8 / 1024 AS u1
    FROM contact ct
),
conv3 AS (
    SELECT c.k, c.created_local, c.created_at, c.u, c.inbox_id, c.account_id, c.account_name, c.channel_type,
           c.timezone, c.working_hours_enabled, c.csat_survey_enabled, c.bot, c.bot_sender_type, c.bot_name,
           c.whatsapp, c.price_month_txt, c.price_quarter_txt, c.price_year_txt,
           c.id, c.display_id, c.intent, c.contact_no,
           -- a cancellation always goes to a human
           CASE WHEN c.intent = 5 AND c.scn0 IN (1, 2) THEN 3 ELSE c.scn0 END AS scn,
           -- a handoff nobody ever answers
           c.u[7] < 0.06 AS never,
           -- shortly after the conversation started, in local time
           c.created_local + interval '3 minutes' AS t0,
           date_trunc('day', c.created_local + interval '3 minutes') AS t0_day,
           (c.created_local + interval '3 minutes') - date_trunc('day', c.created_local + interval '3 minutes') AS t0_tod,
           extract(isodow FROM c.created_local + interval '3 minutes')::int AS t0_dow,
           -- outside the `opening` hours when the contact wrote
           NOT CASE extract(isodow FROM c.created_local)::int
                   WHEN 7 THEN false
                   WHEN 6 THEN c.created_local - date_trunc('day', c.created_local) >= interval '8 hours'
                           AND c.created_local - date_trunc('day', c.created_local) < interval '14 hours'
                   ELSE c.created_local - date_trunc('day', c.created_local) >= interval '7 hours'
                    AND c.created_local - date_trunc('day', c.created_local) < interval '22 hours'
               END AS closed_at_start
    FROM conv2b c
),
conv4 AS (
    SELECT c.k, c.created_local, c.created_at, c.u, c.inbox_id, c.account_id, c.account_name, c.channel_type,
           c.timezone, c.working_hours_enabled, c.csat_survey_enabled, c.bot, c.bot_sender_type, c.bot_name,
           c.whatsapp, c.price_month_txt, c.price_quarter_txt, c.price_year_txt,
           c.id, c.display_id, c.intent, c.contact_no, c.scn, c.t0, c.closed_at_start,
           c.scn <= 4 AS contact_initiated,
           c.bot > 0 AND c.scn = 3 AS handoff,
           c.bot > 0 AND c.scn = 3 AND c.u[5] < 0.65 AS asks_human,
           c.scn = 3 AND c.never AS never,
           -- a human answers at least once
           c.scn = 3 AND NOT c.never AS human,
           -- Next time the reception is open (the `opening` hours in closed form).
           CASE WHEN c.t0_dow <= 5 AND c.t0_tod < interval '7 hours' THEN c.t0_day + interval '7 hours'
                WHEN c.t0_dow <= 5 AND c.t0_tod < interval '22 hours' THEN c.t0
                WHEN c.t0_dow = 6 AND c.t0_tod < interval '8 hours' THEN c.t0_day + interval '8 hours'
                WHEN c.t0_dow = 6 AND c.t0_tod < interval '14 hours' THEN c.t0
                WHEN c.t0_dow <= 4 THEN c.t0_day + interval '1 day 7 hours'
                WHEN c.t0_dow = 5 THEN c.t0_day + interval '1 day 8 hours'
                WHEN c.t0_dow = 6 THEN c.t0_day + interval '2 days 7 hours'
                ELSE c.t0_day + interval '1 day 7 hours' END AS open_at
    FROM conv3 c
),
conv AS MATERIALIZED (
    SELECT c.k, c.created_local, c.created_at, c.u, c.inbox_id, c.account_id, c.account_name, c.channel_type,
           c.timezone, c.working_hours_enabled, c.csat_survey_enabled, c.bot, c.bot_sender_type, c.bot_name,
           c.whatsapp, c.price_month_txt, c.price_quarter_txt, c.price_year_txt,
           c.id, c.display_id, c.intent,
           ct.id AS contact_id,
           ct.first_name AS contact_first_name,
           c.scn, c.contact_initiated, c.handoff, c.asks_human, c.never,
           -- Chatwoot's out-of-office template: first contact message outside working hours
           c.working_hours_enabled AND c.contact_initiated AND c.closed_at_start AS out_of_office,
           CASE WHEN c.bot = 0 OR c.scn >= 4 THEN 0
                WHEN c.scn = 3 THEN CASE WHEN c.u[4] < 0.7 THEN 1 ELSE 2 END
                WHEN c.u[4] < 0.55 THEN 1 WHEN c.u[4] < 0.88 THEN 2 ELSE 3 END AS n_bot,
           CASE WHEN NOT c.human THEN 0 WHEN c.u[6] < 0.3 THEN 1 WHEN c.u[6] < 0.7 THEN 2 ELSE 3 END AS n_human,
           -- visit scheduled, more likely for trial classes and visits
           c.human AND c.u[8] < (ARRAY[0.28, 0.5, 0.15, 0.75, 0.02, 0.08])[c.intent] AS visit,
           c.human AND c.u[8] < (ARRAY[0.28, 0.5, 0.15, 0.75, 0.02, 0.08])[c.intent] AND c.u[9] < 0.35 AS converted,
           c.scn = 3 AND c.u[10] < 0.12 AS note1,
           c.human AND c.u[17] < 0.9 AS resolve,
           c.human AND c.u[15] < 0.12 AS snooze,
           -- The agent who handles the conversation; it is also its assignee, except for
           -- some handoffs nobody picked up.
           ag.ids[1 + floor(c.u[25] * cardinality(ag.ids))::int] AS agent_id,
           CASE WHEN (c.scn = 3 AND NOT (c.never AND c.u[23] < 0.5)) OR c.scn IN (5, 7)
                THEN ag.ids[1 + floor(c.u[25] * cardinality(ag.ids))::int] END AS assignee_id,
           ag.first_names[1 + floor(c.u[25] * cardinality(ag.ids))::int] AS agent_first_name,
           ag.names[1 + floor(c.u[25] * cardinality(ag.ids))::int] AS agent_name,
           CASE WHEN c.scn = 3 AND c.u[26] >= 0.2 THEN
                CASE WHEN c.intent IN (1, 2, 4) THEN 'Comercial' WHEN c.intent = 5 THEN 'Financeiro' ELSE 'Recepção' END
           END AS team_name,
           CASE WHEN c.scn <> 3 THEN NULL
                WHEN c.intent = 5 AND c.u[23] < 0.5 THEN 2
                WHEN c.u[23] < 0.02 THEN 3 WHEN c.u[23] < 0.08 THEN 1 WHEN c.u[23] < 0.1 THEN 0 END AS priority,
           (ARRAY['amanhã', 'segunda', 'terça', 'quarta', 'quinta', 'sexta', 'sábado'])[1 + floor(c.u[30] * 7)::int] AS dia,
           (ARRAY['7h', '8h30', '12h', '17h', '18h', '18h30', '19h', '20h'])[1 + floor(c.u[31] * 8)::int] AS hora,
           (ARRAY['spinning', 'funcional', 'pilates', 'zumba', 'muay thai', 'yoga', 'cross training'])[1 + floor(c.u[32] * 7)::int] AS aula,
           -- Wait for the first human answer: minutes in opening hours; outside them the
           -- handoff waits for the reception to open.
           (40 * exp(c.u[33] * 4.6) * CASE WHEN c.u[34] < 0.1 THEN 2 + 6 * c.u[35] ELSE 1 END
            + extract(epoch FROM c.open_at - c.t0)::float8) AS human_wait,
           -- snoozed for an hour, a day or a week
           CASE WHEN c.u[16] < 0.15 THEN 3600 WHEN c.u[16] < 0.6 THEN 86400 ELSE 604800 END AS snooze_secs
    FROM conv4 c
    JOIN contact_named ct ON ct.account_id = c.account_id AND ct.contact_no = c.contact_no
    JOIN agents ag ON ag.account_id = c.account_id
),

    -- 3. Script and timeline --------------------------------------------------------------
    -- Every kind of step a conversation can have. seq names the step (bit seq of
    -- plan.steps; it also keys the step's draws); mtype is messages.message_type; who:
    -- C contact, B bot, H agent (public), N agent private note, S system (activity or
    -- template, no sender); status: the conversation status after the step (NULL:
    -- unchanged); ev: the reporting event it triggers; gap: how long after the previous
    -- step it happens; dim: what selects the text variant (i intent, b bot kind, -
    -- nothing); text_seq: whose draw picks the text (an answer uses its question's, and
    -- the aligned text pools make them match); pos: the order of steps in a conversation.
script AS (
    -- conversations the gym starts (no contact message)
    SELECT 1 AS seq, 'o_template' AS key, 1 AS mtype, 'H' AS who, 0 AS ctype, 0 AS status, NULL AS ev, 'first' AS gap, '-' AS dim, 1 AS text_seq, 1 AS pos
    UNION ALL SELECT 2, 'o_followup', 1, 'H', 0, NULL, NULL, 'bot', '-', 2, 2
    UNION ALL SELECT 3, 'c_o_reply', 0, 'C', 0, NULL, NULL, 'contact_slow', '-', 1, 3
    UNION ALL SELECT 4, 'h_o_reply', 1, 'H', 0, NULL, NULL, 'human', '-', 1, 4
    UNION ALL SELECT 5, 'b_proactive', 1, 'B', 0, 2, NULL, 'first', '-', 5, 5
    UNION ALL SELECT 6, 'b_proactive2', 1, 'B', 0, NULL, NULL, 'bot', '-', 6, 6
    UNION ALL SELECT 7, 'n_only1', 1, 'N', 0, 0, NULL, 'first', '-', 7, 7
    UNION ALL SELECT 8, 'n_only2', 1, 'N', 0, NULL, NULL, 'note_slow', '-', 8, 8
    UNION ALL SELECT 9, 'x_bot_resolved', 2, 'S', 0, 1, 'resolved', 'resolve', '-', 9, 9
    -- contact starts; the bot (if any) answers
    UNION ALL SELECT 10, 'c_open', 0, 'C', 0, NULL, NULL, 'first', '-', 10, 10
    UNION ALL SELECT 23, 't_out_of_office', 3, 'S', 0, NULL, NULL, 'short', '-', 23, 11
    UNION ALL SELECT 11, 'b_greet', 1, 'B', 0, NULL, NULL, 'bot', 'b', 11, 12
    UNION ALL SELECT 12, 'c_q1', 0, 'C', 0, NULL, NULL, 'contact', 'i', 12, 13
    UNION ALL SELECT 13, 'b_a1', 1, 'B', 0, NULL, NULL, 'bot', 'i', 13, 14
    UNION ALL SELECT 14, 'c_q2', 0, 'C', 0, NULL, NULL, 'contact', 'i', 14, 15
    UNION ALL SELECT 15, 'b_a2', 1, 'B', 0, NULL, NULL, 'bot', 'i', 14, 16
    UNION ALL SELECT 16, 'c_q3', 0, 'C', 0, NULL, NULL, 'contact', '-', 16, 17
    UNION ALL SELECT 17, 'b_a3', 1, 'B', 0, NULL, NULL, 'bot', '-', 16, 18
    UNION ALL SELECT 18, 'c_thanks', 0, 'C', 0, NULL, NULL, 'contact', '-', 18, 19
    UNION ALL SELECT 19, 'b_bye', 1, 'B', 0, NULL, NULL, 'bot', '-', 19, 20
    UNION ALL SELECT 20, 'x_bot_resolved', 2, 'S', 0, 1, 'resolved', 'bot_resolve', '-', 20, 21
    UNION ALL SELECT 21, 'x_auto_resolved', 2, 'S', 0, 1, 'resolved', 'auto_resolve', '-', 21, 22
    UNION ALL SELECT 22, 't_csat', 3, 'S', 9, NULL, NULL, 'short', '-', 22, 23
    -- handoff to the reception, human conversation
    UNION ALL SELECT 24, 'c_unclear', 0, 'C', 0, NULL, NULL, 'contact', 'i', 24, 24
    UNION ALL SELECT 30, 'c_ask_human', 0, 'C', 0, NULL, NULL, 'contact', '-', 30, 25
    UNION ALL SELECT 31, 'b_transfer', 1, 'B', 0, NULL, NULL, 'bot', '-', 31, 26
    UNION ALL SELECT 32, 'b_transfer_fail', 1, 'B', 0, NULL, NULL, 'bot', '-', 32, 27
    UNION ALL SELECT 33, 'x_handoff', 2, 'S', 0, 0, 'handoff', 'system', '-', 33, 28
    UNION ALL SELECT 34, 'x_assign', 2, 'S', 0, NULL, NULL, 'system', '-', 34, 29
    UNION ALL SELECT 35, 'n_note1', 1, 'N', 0, NULL, NULL, 'note', '-', 35, 30
    UNION ALL SELECT 36, 'h_r1', 1, 'H', 0, NULL, NULL, 'human_first', 'i', 36, 31
    UNION ALL SELECT 37, 'c_r1', 0, 'C', 0, NULL, NULL, 'contact_slow', 'i', 37, 32
    UNION ALL SELECT 38, 'h_r2', 1, 'H', 0, NULL, NULL, 'human', 'i', 37, 33
    UNION ALL SELECT 39, 'c_r2', 0, 'C', 0, NULL, NULL, 'contact_slow', '-', 39, 34
    UNION ALL SELECT 40, 'h_r3', 1, 'H', 0, NULL, NULL, 'human', '-', 40, 35
    UNION ALL SELECT 41, 'c_visit', 0, 'C', 0, NULL, NULL, 'contact_slow', '-', 41, 36
    UNION ALL SELECT 42, 'h_visit', 1, 'H', 0, NULL, NULL, 'human', '-', 42, 37
    UNION ALL SELECT 43, 'x_label', 2, 'S', 0, NULL, NULL, 'system', '-', 43, 38
    UNION ALL SELECT 44, 'c_bye', 0, 'C', 0, NULL, NULL, 'contact', '-', 44, 39
    UNION ALL SELECT 45, 'h_bye', 1, 'H', 0, NULL, NULL, 'human', '-', 45, 40
    UNION ALL SELECT 46, 'n_note2', 1, 'N', 0, NULL, NULL, 'note', '-', 46, 41
    UNION ALL SELECT 47, 'n_converted', 1, 'N', 0, NULL, NULL, 'note_slow', '-', 47, 42
    UNION ALL SELECT 48, 'x_snooze', 2, 'S', 0, 3, NULL, 'note', '-', 48, 43
    UNION ALL SELECT 49, 'x_unsnooze', 2, 'S', 0, 0, NULL, 'snooze', '-', 49, 44
    UNION ALL SELECT 50, 'h_followup', 1, 'H', 0, NULL, NULL, 'human', '-', 50, 45
    UNION ALL SELECT 51, 'c_followup', 0, 'C', 0, NULL, NULL, 'contact_slow', '-', 51, 46
    UNION ALL SELECT 52, 'x_resolved', 2, 'S', 0, 1, 'resolved', 'resolve', '-', 52, 47
    UNION ALL SELECT 53, 't_csat', 3, 'S', 9, NULL, NULL, 'short', '-', 53, 48
    -- the contact writes again after the resolution: reopened
    UNION ALL SELECT 54, 'c_reopen', 0, 'C', 0, 0, 'opened', 'reopen', '-', 54, 49
    UNION ALL SELECT 55, 'h_reopen', 1, 'H', 0, NULL, NULL, 'human', '-', 54, 50
    UNION ALL SELECT 56, 'c_reopen2', 0, 'C', 0, NULL, NULL, 'contact_slow', '-', 56, 51
    UNION ALL SELECT 57, 'x_resolved', 2, 'S', 0, 1, 'resolved', 'resolve', '-', 57, 52
    UNION ALL SELECT 58, 't_csat', 3, 'S', 9, NULL, NULL, 'short', '-', 58, 53
),
plan AS MATERIALIZED (
    -- The conversation's steps as a bit set over script.seq; script.pos orders them.
    SELECT c.id,
           (
               CASE WHEN c.scn = 5 THEN 1::bigint << 1 ELSE 0 END +
               CASE WHEN c.scn = 5 AND c.u[36] < 0.3 THEN 1::bigint << 2 ELSE 0 END +
               CASE WHEN c.scn = 5 AND c.u[21] < 0.35 THEN 1::bigint << 3 ELSE 0 END +
               CASE WHEN c.scn = 5 AND c.u[21] < 0.35 THEN 1::bigint << 4 ELSE 0 END +
               CASE WHEN c.scn = 6 THEN 1::bigint << 5 ELSE 0 END +
               CASE WHEN c.scn = 6 AND c.u[21] < 0.4 THEN 1::bigint << 6 ELSE 0 END +
               CASE WHEN c.scn = 7 THEN 1::bigint << 7 ELSE 0 END +
               CASE WHEN c.scn = 7 AND c.u[21] < 0.5 THEN 1::bigint << 8 ELSE 0 END +
               CASE WHEN c.scn = 6 AND c.u[22] < 0.5 THEN 1::bigint << 9 ELSE 0 END +
               CASE WHEN c.contact_initiated THEN 1::bigint << 10 ELSE 0 END +
               CASE WHEN c.out_of_office THEN 1::bigint << 23 ELSE 0 END +
               CASE WHEN c.bot > 0 AND c.scn <= 3 THEN 1::bigint << 11 ELSE 0 END +
               CASE WHEN c.scn <= 3 OR (c.scn = 4 AND c.u[37] < 0.6) THEN 1::bigint << 12 ELSE 0 END +
               CASE WHEN c.n_bot >= 1 THEN 1::bigint << 13 ELSE 0 END +
               CASE WHEN c.n_bot >= 2 THEN 1::bigint << 14 ELSE 0 END +
               CASE WHEN c.n_bot >= 2 THEN 1::bigint << 15 ELSE 0 END +
               CASE WHEN c.n_bot >= 3 THEN 1::bigint << 16 ELSE 0 END +
               CASE WHEN c.n_bot >= 3 THEN 1::bigint << 17 ELSE 0 END +
               CASE WHEN c.scn = 1 AND c.u[13] < 0.7 THEN 1::bigint << 18 ELSE 0 END +
               CASE WHEN c.scn = 1 THEN 1::bigint << 19 ELSE 0 END +
               CASE WHEN c.scn = 1 THEN 1::bigint << 20 ELSE 0 END +
               CASE WHEN c.scn = 2 AND c.u[22] < 0.6 THEN 1::bigint << 21 ELSE 0 END +
               CASE WHEN c.csat_survey_enabled AND (c.scn = 1 OR (c.scn = 2 AND c.u[22] < 0.6)) THEN 1::bigint << 22 ELSE 0 END +
               -- the contact asks for a human, or asks something the bot cannot answer
               CASE WHEN c.handoff AND NOT c.asks_human THEN 1::bigint << 24 ELSE 0 END +
               CASE WHEN c.asks_human THEN 1::bigint << 30 ELSE 0 END +
               CASE WHEN c.asks_human THEN 1::bigint << 31 ELSE 0 END +
               CASE WHEN c.handoff AND NOT c.asks_human THEN 1::bigint << 32 ELSE 0 END +
               CASE WHEN c.handoff THEN 1::bigint << 33 ELSE 0 END +
               CASE WHEN c.scn = 3 AND c.assignee_id IS NOT NULL THEN 1::bigint << 34 ELSE 0 END +
               CASE WHEN c.note1 THEN 1::bigint << 35 ELSE 0 END +
               CASE WHEN c.n_human >= 1 THEN 1::bigint << 36 ELSE 0 END +
               CASE WHEN c.n_human >= 2 THEN 1::bigint << 37 ELSE 0 END +
               CASE WHEN c.n_human >= 2 THEN 1::bigint << 38 ELSE 0 END +
               CASE WHEN c.n_human >= 3 THEN 1::bigint << 39 ELSE 0 END +
               CASE WHEN c.n_human >= 3 THEN 1::bigint << 40 ELSE 0 END +
               CASE WHEN c.visit THEN 1::bigint << 41 ELSE 0 END +
               CASE WHEN c.visit THEN 1::bigint << 42 ELSE 0 END +
               CASE WHEN c.visit AND c.u[12] < 0.7 THEN 1::bigint << 43 ELSE 0 END +
               CASE WHEN c.n_human > 0 AND c.u[13] < 0.55 THEN 1::bigint << 44 ELSE 0 END +
               CASE WHEN c.n_human > 0 AND c.u[13] < 0.55 AND c.u[14] < 0.5 THEN 1::bigint << 45 ELSE 0 END +
               CASE WHEN c.n_human > 0 AND NOT c.converted AND c.u[11] < 0.2 THEN 1::bigint << 46 ELSE 0 END +
               CASE WHEN c.converted THEN 1::bigint << 47 ELSE 0 END +
               CASE WHEN c.snooze THEN 1::bigint << 48 ELSE 0 END +
               CASE WHEN c.snooze THEN 1::bigint << 49 ELSE 0 END +
               CASE WHEN c.snooze THEN 1::bigint << 50 ELSE 0 END +
               CASE WHEN c.snooze AND c.u[38] < 0.6 THEN 1::bigint << 51 ELSE 0 END +
               CASE WHEN c.resolve OR (c.scn = 5 AND c.u[22] < 0.6) OR (c.scn = 7 AND c.u[22] < 0.5) THEN 1::bigint << 52 ELSE 0 END +
               CASE WHEN c.resolve AND c.csat_survey_enabled THEN 1::bigint << 53 ELSE 0 END +
               CASE WHEN c.resolve AND c.u[18] < 0.09 THEN 1::bigint << 54 ELSE 0 END +
               CASE WHEN c.resolve AND c.u[18] < 0.09 THEN 1::bigint << 55 ELSE 0 END +
               CASE WHEN c.resolve AND c.u[18] < 0.09 AND c.u[19] < 0.5 THEN 1::bigint << 56 ELSE 0 END +
               CASE WHEN c.resolve AND c.u[18] < 0.09 AND c.u[20] < 0.55 THEN 1::bigint << 57 ELSE 0 END +
               CASE WHEN c.resolve AND c.u[18] < 0.09 AND c.u[20] < 0.55 AND c.csat_survey_enabled THEN 1::bigint << 58 ELSE 0 END
           ) AS steps,
           c.k, c.created_at, c.bot, c.intent, c.human_wait, c.snooze_secs,
           c.channel_type = 'Channel::WebWidget' AS web
    FROM conv c
),
step AS MATERIALIZED (
    -- Narrow rows, one per step that has happened (a message), with the message's own
    -- draws; in message id order.
    SELECT x.conversation_id, x.ord, x.seq, x.key, x.mtype, x.who, x.ctype, x.status, x.ev, x.pool_dim,
           x.t, x.grp, x.prev_resolved_t, x.user_msgs_upto, x.humans_upto, x.handoff_t, x.id,
           x.h_msg, x.h_msg2, x.text_u, x.deleted, x.audio, x.out_status, x.csat_answered, x.csat_at, x.rating,
           CASE WHEN x.csat_answered AND x.with_feedback THEN
                CASE x.rating
                    WHEN 1 THEN (ARRAY['Demoraram muito pra responder', 'Ninguém me respondeu direito'])[1 + floor(x.g4 * 2)::int]
                    WHEN 2 THEN (ARRAY['Demorou um pouco', 'Não resolveram meu problema'])[1 + floor(x.g4 * 2)::int]
                    WHEN 3 THEN (ARRAY['Ok', 'Poderia ser mais rápido'])[1 + floor(x.g4 * 2)::int]
                    WHEN 4 THEN (ARRAY['Bom atendimento', 'Gostei, obrigado'])[1 + floor(x.g4 * 2)::int]
                    ELSE (ARRAY['Atendimento excelente, super rápido!', 'Amei, muito atenciosos 😍', 'Nota 10!'])[1 + floor(x.g4 * 3)::int]
                END
           END AS feedback,
           -- Deletions, CSAT answers and WhatsApp delivery/read receipts update a message
           -- after it was created (and Chatwoot touches the conversation each time).
           CASE WHEN x.deleted THEN least(x.t + make_interval(secs => 30 * exp(5 * x.g6)), p.now)
                WHEN x.csat_answered THEN x.csat_at
                WHEN x.out_status = 2 THEN least(x.t + make_interval(secs => 3 + 900 * power(x.g6, 3)), p.now)
                WHEN x.out_status = 1 THEN least(x.t + make_interval(secs => 1 + 2 * x.g6), p.now)
                ELSE x.t END AS updated_at
    FROM p
    CROSS JOIN (
        SELECT w.conversation_id, w.ord, w.seq, w.key, w.mtype, w.who, w.ctype, w.status, w.ev, w.pool_dim,
               w.t, w.grp, w.prev_resolved_t, w.user_msgs_upto, w.humans_upto, w.handoff_t,
               -- Chatwoot's message ids grow with time across conversations.
               row_number() OVER (ORDER BY w.t, w.conversation_id, w.ord) AS id,
               w.h_msg, w.h_msg2,
               -- which text of the pool
               (w.h_text & 1048575)::float8 / 1048576 AS text_u,
               -- deleted later (content replaced, content_attributes.deleted)
               w.who IN ('C', 'H') AND w.ctype = 0 AND w.g3 < CASE w.who WHEN 'C' THEN 0.012 ELSE 0.006 END AS deleted,
               -- WhatsApp audio or picture: no text content (the attachment lives elsewhere)
               w.who = 'C' AND w.g3 >= 0.012 AND w.g4 < 0.035 AS audio,
               -- delivery status of outgoing messages: 0 sent, 1 delivered, 2 read, 3 failed
               CASE WHEN w.who IN ('B', 'H') AND NOT w.web THEN
                    CASE WHEN w.g5 < 0.012 THEN 3 WHEN w.g5 < 0.2 THEN 1 ELSE 2 END
                    ELSE 0 END AS out_status,
               w.g4, w.g6,
               -- half the CSAT surveys get an answer, 1 min to ~7 h later (if before @now)
               w.key = 't_csat' AND w.g7 < 0.5 AND w.t + make_interval(secs => 60 * exp(6 * w.g8)) <= p.now AS csat_answered,
               w.t + make_interval(secs => 60 * exp(6 * w.g8)) AS csat_at,
               CASE WHEN w.g9 < 0.08 THEN 1 WHEN w.g9 < 0.13 THEN 2 WHEN w.g9 < 0.23 THEN 3
                    WHEN w.g9 < 0.45 THEN 4 ELSE 5 END AS rating,
               w.g10 < 0.35 AS with_feedback
        FROM p
        CROSS JOIN (
            -- Per-conversation bookkeeping over the steps that have happened. grp counts the
            -- replies (bot or human) and resolutions before a step, so contact messages and
            -- the reply that answers them share a grp (Chatwoot's waiting_since).
            SELECT t1.conversation_id, t1.ord, t1.seq, t1.key, t1.mtype, t1.who, t1.ctype, t1.status, t1.ev, t1.pool_dim,
                   t1.h_step, t1.h_text, t1.t, t1.web, t1.h_msg, t1.h_msg2,
                   ((t1.h_step >> 40) & 1048575)::float8 / 1048576 AS g3,
                   (t1.h_msg & 1048575)::float8 / 1048576 AS g4,
                   ((t1.h_msg >> 20) & 1048575)::float8 / 1048576 AS g5,
                   ((t1.h_msg >> 40) & 1048575)::float8 / 1048576 AS g6,
                   (t1.h_msg2 & 1048575)::float8 / 1048576 AS g7,
                   ((t1.h_msg2 >> 20) & 1048575)::float8 / 1048576 AS g8,
                   ((t1.h_msg2 >> 40) & 1023)::float8 / 1024 AS g9,
                   ((t1.h_msg2 >> 50) & 1023)::float8 / 1024 AS g10,
                   -- All running aggregates over one window, so one WindowAgg computes them.
                   count(*) FILTER (WHERE t1.who IN ('B', 'H') OR t1.ev = 'resolved') OVER conv_upto
                       - CASE WHEN t1.who IN ('B', 'H') OR t1.ev = 'resolved' THEN 1 ELSE 0 END AS grp,
                   -- a reopening step is never a resolution itself: "up to" = "before" here
                   max(t1.t) FILTER (WHERE t1.ev = 'resolved') OVER conv_upto AS prev_resolved_t,
                   count(*) FILTER (WHERE t1.who IN ('H', 'N')) OVER conv_upto AS user_msgs_upto,
                   count(*) FILTER (WHERE t1.who = 'H') OVER conv_upto AS humans_upto,
                   -- at most one handoff, always before the human replies
                   max(t1.t) FILTER (WHERE t1.ev = 'handoff') OVER conv_upto AS handoff_t
            FROM (
                -- The step's time: conversation start + running sum of the gaps.
                SELECT s0.conversation_id, s0.ord, s0.seq, s0.key, s0.mtype, s0.who, s0.ctype, s0.status, s0.ev,
                       CASE s0.dim WHEN 'i' THEN s0.intent WHEN 'b' THEN s0.bot ELSE 0 END AS pool_dim,
                       s0.h_step, s0.h_text, s0.web, s0.h_msg, s0.h_msg2,
                       s0.created_at + make_interval(secs => sum(s0.gap_secs) OVER (
                           PARTITION BY s0.conversation_id ORDER BY s0.ord ROWS UNBOUNDED PRECEDING)) AS t
                FROM p
                CROSS JOIN (
                    SELECT step0.conversation_id, step0.ord, step0.seq, step0.key, step0.mtype, step0.who, step0.ctype,
                           step0.status, step0.ev, step0.dim, step0.intent, step0.bot, step0.h_step, step0.h_msg, step0.h_msg2, step0.h_text,
                           step0.web, step0.created_at,
                       CASE step0.gap
                           WHEN 'first' THEN 0.05 + 0.3 * g
                           WHEN 'bot' THEN CASE WHEN step0.bot = 2 THEN 3 + 11 * g ELSE 1 + 3 * g END
                           WHEN 'contact' THEN 12 * exp(3.4 * g)
                           WHEN 'contact_slow' THEN 30 * exp(5.2 * g)
                           WHEN 'system' THEN 0.2 + 1.3 * g
                           WHEN 'human_first' THEN step0.human_wait
                           WHEN 'human' THEN 25 * exp(4.2 * g)
                           WHEN 'note' THEN 15 * exp(3.6 * g)
                           WHEN 'note_slow' THEN 600 * exp(5 * g)
                           WHEN 'resolve' THEN 60 * exp(5.6 * g)
                           WHEN 'bot_resolve' THEN 5 + 40 * g
                           WHEN 'auto_resolve' THEN 86400 + 1800 * g
                           WHEN 'short' THEN 1 + 2 * g
                           WHEN 'snooze' THEN step0.snooze_secs + 30 * g
                           WHEN 'reopen' THEN 7200 * exp(4.3 * g)
                       END AS gap_secs
                    FROM (
                        SELECT pl.id AS conversation_id, sc.pos AS ord, sc.seq, sc.key, sc.mtype, sc.who, sc.ctype, sc.status,
                               -- an answer uses its question's draw, so they match
                               hashint8extended(pl.k * 128 + sc.text_seq, p.s_text) AS h_text,
                               sc.ev, sc.gap, sc.dim, pl.created_at, pl.bot, pl.intent, pl.human_wait, pl.snooze_secs, pl.web,
                               hashint8extended(pl.k * 128 + sc.seq, p.s_step) AS h_step,
                               hashint8extended(pl.k * 128 + sc.seq, p.s_msg) AS h_msg,
                               hashint8extended(pl.k * 128 + sc.seq, p.s_msg2) AS h_msg2
                        FROM plan pl
                        CROSS JOIN p
                        JOIN script sc ON (pl.steps >> sc.seq) & 1 = 1
                        OFFSET 0
                    ) AS step0
                    CROSS JOIN LATERAL (SELECT (step0.h_step & 1048575)::float8 / 1048576 AS g) AS gg
                ) AS s0
            ) AS t1
            CROSS JOIN p
            -- Steps later than @now have not happened yet.
            WHERE t1.t <= p.now
            WINDOW conv_upto AS (PARTITION BY t1.conversation_id ORDER BY t1.ord ROWS UNBOUNDED PRECEDING)
        ) AS w
    ) AS x
),

    -- 4. Messages ------------------------------------------------------------------------
pool AS (
    SELECT 'o_template' AS key, 0 AS dim, ARRAY[
            'Olá {nome}! Aqui é {agente} da {academia}. Passando para lembrar da sua aula experimental {dia} às {hora}. Podemos confirmar?',
            'Oi {nome}, tudo bem? Sentimos sua falta nos treinos! 💪 Preparamos uma condição especial para você voltar. Posso te contar?',
            'Olá {nome}! Sua mensalidade vence em 3 dias. Para pagar via Pix é só responder esta mensagem.',
            'Oi {nome}! Aqui é {agente} da {academia}. Vi que você visitou a academia, ficou alguma dúvida sobre os planos?'] AS bodies
    UNION ALL SELECT 'o_followup', 0, ARRAY['Qualquer dúvida estou à disposição!', 'Fico no aguardo 😊']
    UNION ALL SELECT 'c_o_reply', 0, ARRAY[
            'Confirmado!',
            'Oi! Quero saber sim',
            'Já paguei, obrigado',
            'Pode me mandar os valores?']
    UNION ALL SELECT 'h_o_reply', 0, ARRAY[
            'Perfeito, {nome}! Até {dia} então 😉',
            'Ótimo! A condição é matrícula grátis e 20% de desconto no primeiro mês 😊',
            'Recebido, obrigada!',
            'Te enviei a tabela de valores, qualquer dúvida me chama.']
    UNION ALL SELECT 'b_proactive', 0, ARRAY[
            'Olá {nome}! 👋 Lembrete: sua aula de {aula} é {dia} às {hora}. Responda 1 para confirmar ou 2 para remarcar.',
            'Oi {nome}! A {academia} abriu novas turmas de {aula} 🎉 Quer garantir sua vaga?',
            'Olá {nome}! Sua avaliação física está marcada para {dia} às {hora}. Até lá! 💪']
    UNION ALL SELECT 'b_proactive2', 0, ARRAY['Qualquer dúvida, é só responder por aqui!', 'Se precisar de algo, estou por aqui 😊']
    UNION ALL SELECT 'n_only1', 0, ARRAY[
            'Cliente ligou pedindo segunda via do boleto',
            'Ligação: quer trancar a matrícula por 30 dias, retornar amanhã',
            'Cliente passou na recepção e pediu informações do plano família',
            'Atendimento presencial: atualizou cartão de crédito da recorrência']
    UNION ALL SELECT 'n_only2', 0, ARRAY['Retorno feito por telefone, resolvido.', 'Enviado por e-mail para o financeiro.']
    UNION ALL SELECT 't_out_of_office', 0, ARRAY[
            'Olá! Nosso horário de atendimento é de segunda a sexta, das 7h às 22h, e aos sábados, das 8h às 14h. Responderemos assim que possível 😊']
    UNION ALL SELECT 'c_open', 0, ARRAY['Oi', 'Olá', 'Boa tarde!', 'Bom dia', 'Oi, tudo bem?', 'Boa noite', 'Oii', 'Olá, bom dia!',
                            'Oi! Vi o anúncio de vocês no Instagram', 'Boa tarde, tudo bem?']
    UNION ALL SELECT 'b_greet', 1, ARRAY[
            E'Olá! Sou a assistente virtual da {academia} 💪 Como posso te ajudar hoje?\n1️⃣ Planos e preços\n2️⃣ Horários\n3️⃣ Aula experimental\n4️⃣ Falar com a recepção',
            E'Olá! Sou a assistente virtual da {academia}. Escolha uma opção:\n1 - Planos e valores\n2 - Horários de funcionamento\n3 - Agendar aula experimental\n4 - Falar com um atendente']
    UNION ALL SELECT 'b_greet', 2, ARRAY[
            'Olá! Sou a assistente virtual da {academia}, com inteligência artificial 🤖 Pode me perguntar sobre planos, horários e aulas!',
            'Oi! Sou a assistente virtual da {academia} 😊 Me conta, como posso te ajudar?']
    UNION ALL SELECT 'c_q1', 1, ARRAY['Qual o valor da mensalidade?', 'Quanto custa o plano mensal?', 'Oi, queria saber os preços dos planos',
                          'Vcs tem plano anual? Qual o valor?', 'Quanto tá a academia?', '1', 'Tem desconto pra estudante?']
    UNION ALL SELECT 'c_q1', 2, ARRAY['Vocês têm aula experimental?', 'Posso fazer uma aula grátis pra conhecer?', '3',
                          'Queria agendar uma aula experimental de {aula}', 'Como faço pra fazer uma aula teste?']
    UNION ALL SELECT 'c_q1', 3, ARRAY['Qual o horário de funcionamento?', 'Vocês abrem domingo?', 'Até que horas vocês ficam abertos?',
                          'Que horas tem aula de {aula}?', 'A academia abre feriado?', '2']
    UNION ALL SELECT 'c_q1', 4, ARRAY['Posso passar aí pra conhecer a academia?', 'Queria conhecer a estrutura, posso ir hoje?',
                          'Onde fica a academia? Queria fazer uma visita']
    UNION ALL SELECT 'c_q1', 5, ARRAY['Quero cancelar meu plano', 'Como faço pra cancelar a matrícula?',
                          'Preciso trancar minha matrícula por 2 meses', 'Quero cancelar, vou me mudar de cidade']
    UNION ALL SELECT 'c_q1', 6, ARRAY['Vocês têm personal trainer?', 'Tem estacionamento?', 'Vocês aceitam Gympass/Wellhub?',
                          'Esqueci minha garrafinha aí ontem', 'Vocês fazem avaliação física?', 'Tem vestiário com armário?']
    UNION ALL SELECT 'b_a1', 1, ARRAY[
            'Temos planos a partir de R$ {preco_anual}/mês no plano anual 😊 O plano mensal sai por R$ {preco_mensal}. Quer que eu te envie todos os detalhes?',
            'Nossos planos: Mensal R$ {preco_mensal} | Trimestral R$ {preco_trimestral}/mês | Anual R$ {preco_anual}/mês. Todos com musculação e aulas coletivas!']
    UNION ALL SELECT 'b_a1', 2, ARRAY['Temos sim! A aula experimental é gratuita 🎉 Você pode vir de segunda a sábado. Qual dia e horário fica melhor pra você?',
                          'Claro! Você pode fazer uma aula experimental grátis de {aula}. Quer agendar?']
    UNION ALL SELECT 'b_a1', 3, ARRAY['Funcionamos de segunda a sexta das 6h às 23h, sábado das 8h às 14h e domingo das 8h às 12h 🕒',
                          E'Nosso horário:\nSeg a Sex: 6h às 23h\nSáb: 8h às 14h\nDom e feriados: 8h às 12h']
    UNION ALL SELECT 'b_a1', 4, ARRAY['Claro! Você pode vir conhecer a academia quando quiser, sem compromisso 😊 Quer agendar um horário com nossa equipe?']
    UNION ALL SELECT 'b_a1', 5, ARRAY['Poxa, que pena 😔 Pode me contar o motivo?', 'Entendi. Antes de seguir, posso te ajudar com alguma outra opção, como trancar o plano?']
    UNION ALL SELECT 'b_a1', 6, ARRAY['Posso te ajudar com planos, horários e aulas experimentais. Para outros assuntos nossa equipe responde em instantes 😊',
                          'Boa pergunta! Vou verificar essa informação pra você.']
    UNION ALL SELECT 'c_q2', 1, ARRAY[
            'E o plano anual dá pra parcelar?',
            'Tem taxa de matrícula?',
            'Inclui as aulas de {aula}?',
            'E pra casal tem desconto?']
    UNION ALL SELECT 'c_q2', 2, ARRAY[
            'Pode ser {dia} às {hora}?',
            'Sábado de manhã dá?',
            'Preciso levar alguma coisa?']
    UNION ALL SELECT 'c_q2', 3, ARRAY[
            'E no feriado?',
            'Qual horário é mais vazio?',
            'Tem aula de {aula} de manhã?']
    UNION ALL SELECT 'c_q2', 4, ARRAY[
            '{dia} depois do trabalho dá?',
            'Tem estacionamento?']
    UNION ALL SELECT 'c_q2', 5, ARRAY[
            'Tem multa?',
            'Posso só trancar?']
    UNION ALL SELECT 'c_q2', 6, ARRAY[
            'Quanto custa?',
            'E a avaliação física é paga?']
    UNION ALL SELECT 'b_a2', 1, ARRAY[
            'Sim! O plano anual pode ser parcelado em até 12x no cartão 💳',
            'A matrícula está isenta esse mês! 🎉',
            'Sim, todos os planos incluem as aulas coletivas, inclusive {aula}.',
            'Temos o plano casal, com 15% de desconto para cada um 💑']
    UNION ALL SELECT 'b_a2', 2, ARRAY[
            'Tenho horário {dia} às {hora}, sim! Posso reservar?',
            'Sábado temos turmas às 8h e às 10h 😉',
            'Só trazer roupa confortável, tênis e uma garrafinha de água 💧']
    UNION ALL SELECT 'b_a2', 3, ARRAY[
            'Em feriados abrimos das 8h às 12h.',
            'Os horários mais tranquilos são entre 10h e 16h 😉',
            'Tem sim! Às 7h e às 9h, de segunda a sexta.']
    UNION ALL SELECT 'b_a2', 4, ARRAY[
            'Dá sim! Ficamos abertos até as 23h.',
            'Temos estacionamento conveniado na rua de trás 🚗']
    UNION ALL SELECT 'b_a2', 5, ARRAY[
            'No plano anual há multa de 10% sobre o restante do contrato; no mensal, não.',
            'Pode sim! O trancamento é de até 60 dias por ano.']
    UNION ALL SELECT 'b_a2', 6, ARRAY[
            'Os planos começam em R$ {preco_anual}/mês no plano anual.',
            'A avaliação física é gratuita para alunos matriculados 😊']
    UNION ALL SELECT 'c_q3', 0, ARRAY[
            'E como faço pra me matricular?',
            'Vocês aceitam Pix?',
            'Tem app pra treino?',
            'Entendi']
    UNION ALL SELECT 'b_a3', 0, ARRAY[
            'A matrícula pode ser feita online ou na recepção. Quer que eu te passe o link?',
            'Aceitamos Pix, cartão de crédito e débito 💳',
            'Sim! Nosso app tem os treinos montados pelos professores 📱',
            'Qualquer dúvida é só chamar 😊']
    UNION ALL SELECT 'c_thanks', 0, ARRAY['Obrigado!', 'Valeu!', 'Obrigada, era isso', 'Perfeito, obrigada 🙏', '👍']
    UNION ALL SELECT 'b_bye', 0, ARRAY['Por nada! Qualquer dúvida é só chamar 💪', 'Imagina! Te esperamos na {academia} 😉']
    UNION ALL SELECT 'x_bot_resolved', 0, ARRAY['Conversa foi resolvida por {bot}']
    UNION ALL SELECT 'x_auto_resolved', 0, ARRAY['Conversa foi resolvida automaticamente após 24 horas sem interação']
    UNION ALL SELECT 't_csat', 0, ARRAY['Por favor, avalie nosso atendimento']
    UNION ALL SELECT 'c_ask_human', 0, ARRAY['Quero falar com um atendente', 'Pode me passar pra alguém da recepção?', 'Falar com atendente', '4',
                                 'Prefiro falar com uma pessoa', 'Atendente humano por favor']
    UNION ALL SELECT 'c_unclear', 1, ARRAY['Vocês dão desconto pra quem já foi aluno?', 'Tem plano só pra final de semana?']
    UNION ALL SELECT 'c_unclear', 2, ARRAY['Posso levar minha filha de 14 anos?', 'A aula experimental vale pra natação também?']
    UNION ALL SELECT 'c_unclear', 3, ARRAY['Vocês abrem no Carnaval?', 'O horário de sábado muda nas férias?']
    UNION ALL SELECT 'c_unclear', 4, ARRAY['Vocês têm vestiário feminino?', 'Dá pra ir conhecer com meu personal?']
    UNION ALL SELECT 'c_unclear', 5, ARRAY['Vou me mudar de cidade', 'Não tô conseguindo pagar esse mês', 'A academia tá sempre lotada no meu horário']
    UNION ALL SELECT 'c_unclear', 6, ARRAY['Vocês têm nutricionista?', 'Posso congelar o plano nas férias?']
    UNION ALL SELECT 'b_transfer', 0, ARRAY['Certo! Vou te transferir para nossa equipe. Em instantes alguém vai te atender 😊',
                                'Vou chamar alguém da recepção pra te ajudar, só um momento!']
    UNION ALL SELECT 'b_transfer_fail', 0, ARRAY[
            'Não consegui entender muito bem 😅 Vou te passar para um dos nossos atendentes.',
            'Essa eu vou deixar com a nossa equipe! Já te transfiro.',
            'Vou te passar para alguém da recepção, tudo bem? 😊']
    UNION ALL SELECT 'x_handoff', 0, ARRAY['Conversa foi transferida para atendimento humano por {bot}']
    UNION ALL SELECT 'x_assign', 0, ARRAY['Atribuída a {agente_completo} pela atribuição automática']
    UNION ALL SELECT 'n_note1', 0, ARRAY['Cliente já foi aluno em 2023, verificar cadastro antigo', 'Verificar se ainda temos vaga na turma das {hora}',
                             'Lead veio pelo anúncio do Instagram', 'Cliente pediu desconto, confirmar com a gerência']
    UNION ALL SELECT 'h_r1', 1, ARRAY['Oi {nome}, tudo bem? Aqui é {agente}, da recepção 😊 Nosso plano anual sai por R$ {preco_anual}/mês e o mensal R$ {preco_mensal}. Quer vir conhecer a academia?',
                          'Olá {nome}! {agente} aqui. Te passo os valores: mensal R$ {preco_mensal}, anual R$ {preco_anual}/mês sem taxa de matrícula.']
    UNION ALL SELECT 'h_r1', 2, ARRAY['Oi {nome}! Aqui é {agente}. Podemos agendar sua aula experimental sim! Qual horário fica melhor?']
    UNION ALL SELECT 'h_r1', 3, ARRAY['Olá {nome}! {agente} aqui. Funcionamos de seg a sex das 6h às 23h e sábado das 8h às 14h.']
    UNION ALL SELECT 'h_r1', 4, ARRAY['Oi {nome}, tudo bem? Pode vir sim! Qual dia fica bom pra você?']
    UNION ALL SELECT 'h_r1', 5, ARRAY['Oi {nome}, aqui é {agente}. Sinto muito! Posso perguntar o motivo do cancelamento? Temos a opção de trancar o plano por até 60 dias.']
    UNION ALL SELECT 'h_r1', 6, ARRAY['Oi {nome}! Aqui é {agente}, como posso te ajudar?', 'Olá {nome}, tudo bem? Vou verificar e já te respondo!']
    UNION ALL SELECT 'c_r1', 1, ARRAY[
            'Qual a diferença do plano mensal pro anual?',
            'Tem fidelidade?',
            'Achei um pouco caro, tem alguma promoção?',
            'Vocês parcelam no cartão?']
    UNION ALL SELECT 'c_r1', 2, ARRAY[
            'Pode ser {dia} às {hora}?',
            '{dia} às {hora} tá ótimo']
    UNION ALL SELECT 'c_r1', 3, ARRAY[
            'Perfeito, obrigado!',
            'E no domingo?']
    UNION ALL SELECT 'c_r1', 4, ARRAY[
            'Pode ser {dia} às {hora}?']
    UNION ALL SELECT 'c_r1', 5, ARRAY[
            'Vou me mudar de cidade',
            'Tá muito corrido, não tô conseguindo ir',
            'Questão financeira mesmo']
    UNION ALL SELECT 'c_r1', 6, ARRAY[
            'Entendi, obrigada',
            'Ok, aguardo']
    UNION ALL SELECT 'h_r2', 1, ARRAY[
            'No anual você tem o menor valor mensal e a matrícula é isenta 😉',
            'O plano mensal não tem fidelidade; o anual é de 12 meses.',
            'Essa semana estamos com matrícula grátis no plano anual!',
            'Parcelamos o plano anual em até 12x sem juros 💳']
    UNION ALL SELECT 'h_r2', 2, ARRAY[
            'Prontinho, {dia} às {hora} está reservado pra você! Traga roupa confortável e uma garrafinha de água 💧',
            'Combinado, {dia} às {hora}! Te esperamos 💪']
    UNION ALL SELECT 'h_r2', 3, ARRAY[
            'Por nada! Bons treinos 💪',
            'Domingo abrimos das 8h às 12h!']
    UNION ALL SELECT 'h_r2', 4, ARRAY[
            'Combinado! Te esperamos {dia} às {hora}.']
    UNION ALL SELECT 'h_r2', 5, ARRAY[
            'Entendo! Para cancelar preciso que você assine o termo na recepção ou me envie uma foto do documento.',
            'Entendo. Que tal trancar por 60 dias em vez de cancelar? Se preferir cancelar, é só assinar o termo na recepção.',
            'Entendo. O plano mensal não tem fidelidade, pode ser uma opção. Se preferir cancelar, é só assinar o termo na recepção.']
    UNION ALL SELECT 'h_r2', 6, ARRAY[
            'Por nada! Qualquer coisa é só chamar.',
            'Confirmei aqui: temos sim!']
    UNION ALL SELECT 'c_r2', 0, ARRAY['Ok', 'Combinado!', 'Show', 'Beleza, obrigado', 'Vou pensar e te falo']
    UNION ALL SELECT 'h_r3', 0, ARRAY['Qualquer dúvida estou à disposição! 😊', 'Fico no aguardo então!', 'Posso te ajudar em mais alguma coisa?']
    UNION ALL SELECT 'c_visit', 0, ARRAY['Queria agendar uma visita pra conhecer, pode ser {dia} às {hora}?', 'Posso ir conhecer {dia} às {hora}?',
                             'Quero agendar minha aula experimental pra {dia} às {hora}']
    UNION ALL SELECT 'h_visit', 0, ARRAY['Agendado! Te esperamos {dia} às {hora} 😉 É só procurar a recepção.', 'Perfeito, {nome}! Visita agendada para {dia} às {hora}.']
    UNION ALL SELECT 'x_label', 0, ARRAY['{agente_completo} adicionou visita-agendada']
    UNION ALL SELECT 'c_bye', 0, ARRAY['Obrigada!', 'Valeu, até mais', 'Obrigado pela atenção', '🙏', 'Até {dia}!']
    UNION ALL SELECT 'h_bye', 0, ARRAY['Nós que agradecemos! Até mais 💪', 'Até logo, {nome}!']
    UNION ALL SELECT 'n_note2', 0, ARRAY['Passou valores, aguardando retorno', 'Visita agendada, lembrar de ligar na véspera', 'Cliente quer plano casal, verificar condição']
    UNION ALL SELECT 'n_converted', 0, ARRAY['Matrícula realizada no plano anual ✅', 'Fez a aula experimental e fechou o plano mensal', 'Matriculado! Pagou via Pix.']
    UNION ALL SELECT 'x_snooze', 0, ARRAY['Conversa foi adiada por {agente}']
    UNION ALL SELECT 'x_unsnooze', 0, ARRAY['Conversa foi reaberta automaticamente ao fim do adiamento']
    UNION ALL SELECT 'h_followup', 0, ARRAY['Oi {nome}, tudo bem? Conseguiu pensar sobre o plano? 😊', 'Oi {nome}! Passando pra saber se ficou alguma dúvida.']
    UNION ALL SELECT 'c_followup', 0, ARRAY['Oi! Vou passar aí essa semana', 'Ainda não decidi, te aviso', 'Pode fazer a matrícula pra mim']
    UNION ALL SELECT 'x_resolved', 0, ARRAY['Conversa foi resolvida por {agente}']
    UNION ALL SELECT 'c_reopen', 0, ARRAY[
            'Oi, esqueci de perguntar: vocês têm estacionamento?',
            'Oi de novo! Posso levar um acompanhante na aula experimental?',
            'Oi, não consegui ir, posso remarcar?',
            'Boa tarde, o pagamento não foi aprovado, o que faço?']
    UNION ALL SELECT 'h_reopen', 0, ARRAY[
            'Oi {nome}! Temos sim, estacionamento conveniado na rua de trás 😊',
            'Pode sim, {nome}! O acompanhante também faz a aula grátis.',
            'Claro, pode remarcar! Qual dia fica melhor?',
            'Vou verificar com o financeiro e já te retorno.']
    UNION ALL SELECT 'c_reopen2', 0, ARRAY['Obrigada!', '{dia} às {hora} pode ser?']
),
waiting AS (
    -- Chatwoot's waiting_since: the first contact message after the previous reply.
    SELECT conversation_id, grp, min(t) AS waiting_t
    FROM step
    WHERE who = 'C'
    GROUP BY conversation_id, grp
),
cagg AS (
    SELECT conversation_id,
           max(t) AS last_t,
           max(updated_at) AS last_updated_at,
           min(t) FILTER (WHERE who = 'H') AS first_human_t,
           -- the status after the last step that changed it (ord * 10 + status, max wins)
           (max(ord * 10 + status) FILTER (WHERE status IS NOT NULL) % 10)::int AS status,
           max(t) FILTER (WHERE key = 'x_snooze') AS snooze_t,
           -- replies and resolutions; contact messages after the last one wait (waiting)
           count(*) FILTER (WHERE who IN ('B', 'H') OR ev = 'resolved') AS boundaries,
           max(t) FILTER (WHERE who = 'C') AS last_contact_t,
           max(t) FILTER (WHERE who IN ('B', 'H')) AS last_out_t,
           max(t) FILTER (WHERE key = 'h_visit') AS visit_t,
           max(t) FILTER (WHERE key = 'n_converted') AS converted_t
    FROM step
    GROUP BY conversation_id
),

    -- 5. Labels -------------------------------------------------------------------------
lbl0 AS (
    SELECT c.id AS conversation_id, c.account_id, c.contact_id, x.pos, x.title, least(x.t, p.now) AS t
    FROM conv c
    CROSS JOIN p
    JOIN cagg ca ON ca.conversation_id = c.id
    CROSS JOIN LATERAL (
        -- set by the bot or the receptionist early in the conversation
        SELECT 1 AS pos, CASE WHEN c.contact_initiated AND c.intent <> 5 AND c.u[27] < 0.7 THEN 'lead' END AS title, least(c.created_at + make_interval(secs => 20 + 580 * c.u[40]), ca.last_t) AS t
        UNION ALL SELECT 2, CASE WHEN c.contact_initiated AND c.u[28] < 0.6
                     THEN (ARRAY['preco', 'aula-experimental', 'horarios', NULL, 'cancelamento', NULL])[c.intent] END, least(c.created_at + make_interval(secs => 25 + 600 * c.u[41]), ca.last_t)
        UNION ALL SELECT 3, CASE WHEN c.contact_initiated AND c.intent = 6 AND c.u[29] < 0.3 THEN 'personal'
                     WHEN c.contact_initiated AND c.u[29] > 0.97 THEN 'reclamacao' END, least(c.created_at + make_interval(secs => 30 + 900 * c.u[42]), ca.last_t)
        -- set when it happened
        UNION ALL SELECT 4, 'visita-agendada', ca.visit_t + interval '1.5 seconds'
        UNION ALL SELECT 5, 'matriculado', ca.converted_t + interval '1 second'
        UNION ALL SELECT 6, CASE WHEN c.u[29] < 0.4 THEN 'plano-anual' END, ca.converted_t + interval '2 seconds'
    ) AS x
    WHERE x.title IS NOT NULL AND x.t IS NOT NULL
),
catalogue AS MATERIALIZED (
    -- Each account's labels with their global tag ids.
    SELECT lb.account_id, lb.title::text AS title, tg.id AS tag_id
    FROM labels lb
    JOIN tags tg ON tg.name = lb.title
),
lbl AS (
    -- Only labels in the account's catalogue can be applied.
    SELECT l0.conversation_id, l0.account_id, l0.contact_id, l0.pos, l0.title, l0.t, ct.tag_id
    FROM lbl0 l0
    JOIN catalogue ct ON ct.account_id = l0.account_id AND ct.title = l0.title
),
label_list AS (
    SELECT conversation_id, string_agg(title, ', ' ORDER BY t, pos) AS list
    FROM lbl
    GROUP BY conversation_id
),
tagging AS (
    SELECT row_number() OVER (ORDER BY x.t, x.kind, x.taggable_id, x.tag_id) AS id,
           x.kind, x.tag_id, x.taggable_type, x.taggable_id, x.t
    FROM (
        SELECT 1 AS kind, tag_id, 'Conversation' AS taggable_type, conversation_id AS taggable_id, t
        FROM lbl
        UNION ALL
        -- Contacts get labels too (acts-as-taggable-on, same tables): enrolled ones are "aluno".
        SELECT 2, tg.id, 'Contact', l.contact_id, least(min(l.t) + interval '3 seconds', p.now)
        FROM lbl l
        CROSS JOIN p
        JOIN tags tg ON tg.name = 'aluno'
        JOIN labels lb ON lb.account_id = l.account_id AND lb.title = 'aluno'
        WHERE l.title = 'matriculado'
        GROUP BY tg.id, l.contact_id, p.now
    ) AS x
),
ins_taggings AS (
    INSERT INTO taggings (id, tag_id, taggable_type, taggable_id, tagger_type, tagger_id, context, created_at)
    SELECT id, tag_id, taggable_type, taggable_id, NULL, NULL, 'labels', t
    FROM tagging
    ORDER BY id
),
upd_tags AS (
    UPDATE tags
    SET taggings_count = n.cnt
    FROM (SELECT tag_id, count(*) AS cnt FROM tagging GROUP BY tag_id) AS n
    WHERE tags.id = n.tag_id
),

    -- 6. Contacts, conversations, messages, CSAT ------------------------------------------
contact_stat AS (
    SELECT c.contact_id,
           max(ca.last_contact_t) AS last_contact_t,
           bool_or(ca.converted_t IS NOT NULL) AS converted,
           bool_or(ca.last_contact_t IS NOT NULL) AS wrote
    FROM conv c
    JOIN cagg ca ON ca.conversation_id = c.id
    GROUP BY c.contact_id
),
ins_contacts AS (
    INSERT INTO contacts (id, name, email, phone_number, account_id, created_at, updated_at, additional_attributes,
                          identifier, custom_attributes, last_activity_at, contact_type, middle_name, last_name,
                          location, country_code, blocked)
    SELECT ct.id,
           CASE WHEN ct.u1 < 0.05 THEN ct.first_name ELSE ct.first_name || ' ' || ct.last_name END,
           CASE WHEN ((ct.h2 >> 20) & 1023) < 154 THEN
                translate(lower(ct.first_name || '.' || ct.last_name), 'áàâãéêíóôõúüç', 'aaaaeeiooouuc') || ct.contact_no::text
                || '@' || (ARRAY['gmail.com', 'hotmail.com', 'outlook.com', 'yahoo.com.br'])[1 + ((ct.h2 >> 30) & 3)]
           END,
           -- +55, area code (mostly the gym's city), mobile 9 + 8 digits. Instagram and
           -- some web-widget contacts never gave a number.
           CASE WHEN ct.first_channel = 'Channel::Instagram' OR (ct.first_channel = 'Channel::WebWidget' AND ct.u1 > 0.5) THEN NULL
                ELSE '+55' || (CASE WHEN ((ct.h2 >> 40) & 1023) < 100 THEN (ARRAY[11, 21, 31, 19, 27, 62])[1 + ((ct.h2 >> 32) & 255) % 6] ELSE ct.ddd END)::text
                     || '9' || (6 + (ct.h2 & 3))::text || lpad((((ct.h2 >> 2) & 16777215) % 10000000)::text, 7, '0')
           END,
           ct.account_id,
           ct.first_at - make_interval(secs => 0.5 + 2 * ct.u1),
           greatest(ct.first_at, cs.last_contact_t),
           '{}'::jsonb, NULL, '{}'::jsonb, cs.last_contact_t,
           CASE WHEN cs.converted THEN 2 WHEN cs.wrote THEN 1 ELSE 0 END,
           '', '', '', '',
           ((ct.h2 >> 50) & 1023) < 3
    FROM contact_named ct
    JOIN contact_stat cs ON cs.contact_id = ct.id
    ORDER BY ct.id
),
ins_conversations AS (
    INSERT INTO conversations (id, account_id, inbox_id, status, assignee_id, created_at, updated_at, contact_id,
                               display_id, contact_last_seen_at, agent_last_seen_at, additional_attributes,
                               contact_inbox_id, uuid, identifier, last_activity_at, team_id, campaign_id,
                               snoozed_until, custom_attributes, assignee_last_seen_at, first_reply_created_at,
                               priority, sla_policy_id, waiting_since, cached_label_list, assignee_agent_bot_id)
    SELECT c.id, c.account_id, c.inbox_id, st.status, c.assignee_id, c.created_at,
           -- Chatwoot touches the conversation whenever one of its messages is written.
           ca.last_updated_at,
           c.contact_id, c.display_id,
           CASE WHEN c.channel_type = 'Channel::WebWidget' AND ca.last_out_t IS NOT NULL
                THEN least(ca.last_out_t + make_interval(secs => 2 + 60 * c.u[39]), p.now) END,
           CASE WHEN c.assignee_id IS NOT NULL THEN least(ca.last_t + make_interval(secs => 5 + 900 * c.u[39]), p.now) END,
           CASE WHEN c.channel_type = 'Channel::WebWidget' THEN
                jsonb_build_object('browser', jsonb_build_object(
                    'browser_name', (ARRAY['Chrome', 'Safari', 'Samsung Internet', 'Firefox'])[1 + floor(c.u[38] * 4)::int],
                    'platform_name', (ARRAY['Android', 'iOS', 'Windows', 'macOS'])[1 + floor(c.u[37] * 4)::int]),
                    'referer', 'https://www.google.com/')
                ELSE '{}'::jsonb END,
           NULL,
           (substr(hx.hex, 1, 12) || '4' || substr(hx.hex, 14, 3) || '8' || substr(hx.hex, 18, 15))::uuid,
           NULL, ca.last_t, tm.id, NULL,
           CASE WHEN st.status = 3 THEN ca.snooze_t + make_interval(secs => c.snooze_secs) END,
           '{}'::jsonb,
           CASE WHEN c.assignee_id IS NOT NULL THEN least(ca.last_t + make_interval(secs => 5 + 900 * c.u[39]), p.now) END,
           ca.first_human_t,
           c.priority, NULL,
           CASE WHEN st.status <> 1 THEN w.waiting_t END,
           -- cached_label_list arrived with a Chatwoot upgrade: older conversations keep
           -- NULL even when they have labels (taggings is the truth).
           CASE WHEN c.created_at >= p.now - make_interval(secs => p.days * 86400 * 0.6) THEN ll.list END,
           NULL
    FROM conv c
    CROSS JOIN p
    JOIN cagg ca ON ca.conversation_id = c.id
    LEFT JOIN waiting w ON w.conversation_id = c.id AND w.grp = ca.boundaries
    LEFT JOIN label_list ll ON ll.conversation_id = c.id
    LEFT JOIN teams tm ON tm.account_id = c.account_id AND tm.name = c.team_name
    CROSS JOIN LATERAL (
        -- Initial status: pending while a bot handles it, open otherwise.
        SELECT coalesce(ca.status, CASE WHEN c.bot > 0 AND c.contact_initiated THEN 2 ELSE 0 END) AS status
    ) AS st
    CROSS JOIN LATERAL (
        -- 96 hashed bits, then 32 bits that are a bijection of k (an odd multiplier and a
        -- seed mask, modulo 2^32): the version and variant digits overwrite hashed bits
        -- only, so distinct keys give distinct uuids by construction.
        SELECT lpad(to_hex(hashint8extended(c.k, p.s_event)), 16, '0')
            || lpad(to_hex((hashint8extended(c.k, p.s_contact) >> 32) & 4294967295), 8, '0')
            || lpad(to_hex(((c.k * 2654435761) # p.s_contact) & 4294967295), 8, '0') AS hex
    ) AS hx
    ORDER BY c.id
),
ins_messages AS (
    -- The wide message rows are built here, streaming into the table: no CTE holds them.
    INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at,
                          private, status, source_id, content_type, content_attributes, sender_type, sender_id)
    SELECT m.id,
           CASE WHEN m.deleted THEN 'Esta mensagem foi excluída' WHEN m.audio THEN NULL
                WHEN strpos(m.body, '{') = 0 THEN m.body
                -- fill the placeholders of the chosen text
                ELSE replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(m.body,
                    '{nome}', m.contact_first_name), '{agente_completo}', m.agent_name), '{agente}', m.agent_first_name),
                    '{bot}', coalesce(m.bot_name, '')), '{academia}', m.account_name), '{preco_mensal}', m.price_month_txt),
                    '{preco_trimestral}', m.price_quarter_txt), '{preco_anual}', m.price_year_txt),
                    '{dia}', m.dia), '{hora}', m.hora), '{aula}', m.aula)
           END,
           m.account_id, m.inbox_id, m.conversation_id, m.mtype, m.t, m.updated_at,
           m.who = 'N', m.out_status,
           -- WhatsApp / Instagram ids of what went through the channel
           CASE WHEN m.channel_type = 'Channel::WebWidget' OR NOT (m.who = 'C' OR (m.who IN ('B', 'H') AND m.out_status <> 3)) THEN NULL
                WHEN m.channel_type = 'Channel::Instagram' THEN 'aWdfZAG1faXRlbToxOklH' || lpad(to_hex(m.h_msg), 16, '0') || lpad(to_hex(m.h_msg2), 16, '0')
                ELSE 'wamid.HBgM' || upper(lpad(to_hex(m.h_msg), 16, '0') || lpad(to_hex(m.h_msg2), 16, '0')) END,
           m.ctype,
           CASE WHEN m.deleted THEN json_build_object('deleted', true)
                WHEN m.csat_answered THEN json_build_object('submitted_values', json_build_object('csat_survey_response',
                     json_build_object('rating', m.rating, 'feedback_message', coalesce(m.feedback, ''))))
                WHEN m.out_status = 3 THEN json_build_object('external_error', '131026: Message undeliverable')
                ELSE '{}'::json END,
           CASE m.who WHEN 'C' THEN 'Contact' WHEN 'B' THEN m.bot_sender_type WHEN 'H' THEN 'User' WHEN 'N' THEN 'User' END,
           -- bots: one AgentBot / Captain assistant per account, with the account's id
           CASE m.who WHEN 'C' THEN m.contact_id WHEN 'B' THEN m.account_id WHEN 'H' THEN m.agent_id WHEN 'N' THEN m.agent_id END
    FROM (
        SELECT s.id, s.conversation_id, s.mtype, s.who, s.ctype, s.t, s.updated_at,
               s.deleted, s.audio, s.out_status, s.rating, s.csat_answered, s.feedback, s.h_msg, s.h_msg2,
               c.account_id, c.inbox_id, c.contact_id, c.agent_id, c.channel_type, c.bot_sender_type,
               c.contact_first_name, c.agent_name, c.agent_first_name, c.bot_name, c.account_name,
               c.price_month_txt, c.price_quarter_txt, c.price_year_txt, c.dia, c.hora, c.aula,
               pl.bodies[1 + floor(s.text_u * cardinality(pl.bodies))::int] AS body
        FROM step s
        JOIN conv c ON c.id = s.conversation_id
        JOIN pool pl ON pl.key = s.key AND pl.dim = s.pool_dim
        -- keeps the subquery from being inlined, so body is computed once per row
        OFFSET 0
    ) AS m
),
ins_csat AS (
    INSERT INTO csat_survey_responses (id, account_id, conversation_id, message_id, rating, feedback_message,
                                       contact_id, assigned_agent_id, created_at, updated_at)
    SELECT row_number() OVER (ORDER BY s.csat_at, s.id), c.account_id, s.conversation_id, s.id, s.rating, s.feedback,
           c.contact_id, c.assignee_id, s.csat_at, s.csat_at
    FROM step s
    JOIN conv c ON c.id = s.conversation_id
    WHERE s.csat_answered
    ORDER BY 1
),

    -- 7. Reporting events (what Chatwoot's ReportingEventListener writes) ----------------
event_kind AS (
    SELECT 1 AS name_no, 'conversation_bot_handoff' AS name
    UNION ALL SELECT 2, 'first_response'
    UNION ALL SELECT 3, 'reply_time'
    UNION ALL SELECT 4, 'conversation_resolved'
    UNION ALL SELECT 5, 'conversation_bot_resolved'
    UNION ALL SELECT 6, 'conversation_opened'
),
ev0 AS (
    -- One pass over the messages: each may trigger some of the six events.
    SELECT m.conversation_id, m.seq, k.name_no, k.name, m.t AS end_t,
           c.account_id, c.inbox_id, c.working_hours_enabled, c.timezone, c.k,
           CASE k.name_no
               WHEN 2 THEN CASE WHEN m.handoff_t < m.t THEN m.handoff_t ELSE c.created_at END
               WHEN 3 THEN w.waiting_t
               WHEN 6 THEN m.prev_resolved_t
               ELSE c.created_at END AS start_t,
           -- the agent who replied or resolved; system and bot events have none
           CASE WHEN k.name_no IN (2, 3) OR (k.name_no = 4 AND m.key = 'x_resolved') THEN c.agent_id END AS user_id
    FROM step m
    JOIN conv c ON c.id = m.conversation_id
    LEFT JOIN waiting w ON w.conversation_id = m.conversation_id AND w.grp = m.grp AND m.who = 'H'
    JOIN event_kind k ON CASE k.name_no
        WHEN 1 THEN m.ev = 'handoff'
        -- first human reply, measured from the bot handoff if there was one
        WHEN 2 THEN m.who = 'H' AND m.humans_upto = 1
        -- every human reply to a waiting contact, from its first unanswered message
        WHEN 3 THEN m.who = 'H' AND w.waiting_t IS NOT NULL
        -- measured from the conversation's creation, even after a reopen
        WHEN 4 THEN m.ev = 'resolved'
        -- also written when a bot inbox resolves without any agent message
        WHEN 5 THEN m.ev = 'resolved' AND c.bot > 0 AND m.user_msgs_upto = 0
        -- reopened: time since the last resolution
        WHEN 6 THEN m.ev = 'opened' AND m.prev_resolved_t IS NOT NULL
    END
    WHERE m.ev IS NOT NULL OR m.who = 'H'
),
ev AS (
    SELECT e.conversation_id, e.seq, e.name_no, e.name, e.start_t, e.end_t, e.user_id,
           e.account_id, e.inbox_id, e.working_hours_enabled, e.timezone,
           (floor(extract(epoch FROM e.end_t)) - floor(extract(epoch FROM e.start_t)))::float8 AS value,
           -- written asynchronously: a few seconds late, sometimes minutes
           e.end_t + make_interval(secs => CASE WHEN (hh.h & 1023) < 31 THEN 60 + 600 * ((hh.h >> 10) & 1023)::float8 / 1024
                                                ELSE 0.3 + 4 * ((hh.h >> 10) & 1023)::float8 / 1024 END) AS created_at
    FROM ev0 e
    CROSS JOIN p
    CROSS JOIN LATERAL (SELECT hashint8extended(e.k * 128 + e.seq, p.s_events[e.name_no]) AS h) AS hh
)
INSERT INTO reporting_events (id, name, value, account_id, inbox_id, user_id, conversation_id, created_at, updated_at,
                              value_in_business_hours, event_start_time, event_end_time)
SELECT row_number() OVER (ORDER BY e.created_at, e.conversation_id, e.seq, e.name_no),
       e.name, e.value, e.account_id, e.inbox_id, e.user_id, e.conversation_id, e.created_at, e.created_at,
       -- Seconds of the interval inside the inbox's working hours; 0 without working hours.
       CASE WHEN NOT e.working_hours_enabled THEN 0 ELSE (
           SELECT coalesce(floor(sum(greatest(0, extract(epoch FROM
                      least(b.le, d.day + make_interval(secs => o.close_s)) - greatest(b.ls, d.day + make_interval(secs => o.open_s)))))), 0)::float8
           FROM (SELECT (e.start_t AT TIME ZONE 'UTC') AT TIME ZONE e.timezone AS ls,
                        (e.end_t AT TIME ZONE 'UTC') AT TIME ZONE e.timezone AS le) AS b
           CROSS JOIN LATERAL generate_series(date_trunc('day', b.ls), b.le, interval '1 day') AS d (day)
           JOIN opening o ON o.dow = extract(isodow FROM d.day)
       ) END,
       e.start_t, e.end_t
FROM ev e
CROSS JOIN p
    -- not written yet
WHERE e.created_at <= p.now
ORDER BY 1;
