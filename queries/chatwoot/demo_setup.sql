-- name: DemoSessionTune :exec
-- DemoSessionTune tunes the rest of the current transaction for bulk generation:
-- the million-row sorts, hashes and CTEs of a 100k-conversation run stay in memory
-- (work_mem is a cap: small runs use little), index builds get memory too, and JIT is
-- off (compiling the generator's big INSERT costs far more than it saves).
SELECT set_config('work_mem', '512MB', true),
       set_config('maintenance_work_mem', '512MB', true),
       set_config('jit', 'off', true);

-- name: DemoAnalyze :exec
-- DemoAnalyze refreshes the planner statistics of the Chatwoot tables after a bulk load.
ANALYZE accounts, inboxes, working_hours, channel_whatsapp, users, account_users, teams, labels, tags,
        taggings, contacts, conversations, messages, csat_survey_responses, reporting_events;

-- name: DemoAccountCount :one
-- DemoAccountCount tells whether the database already holds Chatwoot accounts
-- (the generator only fills an empty schema).
SELECT count(*) FROM accounts;

-- name: DemoInsertAccounts :execrows
-- DemoInsertAccounts creates accounts 1..@accounts: Brazilian gyms, all active,
-- created well before the demo window.
WITH gyms AS (
    SELECT 1 AS n, 'Academia Corpo em Movimento' AS name, 'corpoemmovimento' AS slug
    UNION ALL SELECT 2, 'Studio Vida Ativa', 'studiovidaativa'
    UNION ALL SELECT 3, 'Academia Força Total', 'forcatotal'
    UNION ALL SELECT 4, 'CrossBox Pinheiros', 'crossboxpinheiros'
    UNION ALL SELECT 5, 'Academia Energia Pura', 'energiapura'
    UNION ALL SELECT 6, 'Espaço Pilates Equilíbrio', 'pilatesequilibrio'
    UNION ALL SELECT 7, 'Arena Fight Club', 'arenafightclub'
    UNION ALL SELECT 8, 'Academia Bem-Estar', 'academiabemestar'
    UNION ALL SELECT 9, 'Studio Flex Funcional', 'flexfuncional'
    UNION ALL SELECT 10, 'Academia Superação', 'academiasuperacao'
    UNION ALL SELECT 11, 'Top Fit Academia', 'topfitacademia'
    UNION ALL SELECT 12, 'Academia Movimento Livre', 'movimentolivre'
),
p AS (
    SELECT @now::timestamp AS now, @days::int AS days, @accounts::int AS accounts
),
acc AS (
    SELECT a AS id,
           g.name || CASE WHEN a > 12 THEN ' ' || ((a - 1) / 12 + 1)::text ELSE '' END AS name,
           g.slug || CASE WHEN a > 12 THEN ((a - 1) / 12 + 1)::text ELSE '' END AS slug,
           p.now - make_interval(days => p.days + 150 + 41 * a, secs => 3600 * 13 + a * 97) AS created_at
    FROM p
    CROSS JOIN generate_series(1, p.accounts) AS a
    JOIN gyms g ON g.n = (a - 1) % 12 + 1
)
INSERT INTO accounts (id, name, created_at, updated_at, locale, domain, support_email,
                      feature_flags, auto_resolve_duration, status)
SELECT id, name, created_at, created_at + interval '3 days', 0,
       'atendimento.' || slug || '.com.br', 'contato@' || slug || '.com.br', 0, NULL, 0
FROM acc
ORDER BY id;

-- name: DemoInsertInboxes :execrows
-- DemoInsertInboxes creates @inboxes_per_account inboxes per account, and the
-- channel_whatsapp rows behind the WhatsApp ones. The first inbox is always
-- "WhatsApp Recepção"; the next four rotate per account through WhatsApp Comercial,
-- Instagram, the site's web widget and a WhatsApp number connected through the API
-- channel (common in Brazil), so every channel type shows up across accounts.
WITH kinds AS (
    SELECT 1 AS kind, 'Channel::Whatsapp' AS channel_type, 'WhatsApp Recepção' AS label
    UNION ALL SELECT 2, 'Channel::Whatsapp', 'WhatsApp Comercial'
    UNION ALL SELECT 3, 'Channel::Instagram', 'Instagram'
    UNION ALL SELECT 4, 'Channel::WebWidget', 'Chat do Site'
    UNION ALL SELECT 5, 'Channel::Api', 'WhatsApp Unidade Centro'
    UNION ALL SELECT 6, 'Channel::Whatsapp', 'WhatsApp Unidade'
),
p AS (
    SELECT @inboxes_per_account::int AS per_account
),
ibx AS (
    SELECT (a.id - 1) * p.per_account + j AS id,
           a.id AS account_id,
           a.created_at + make_interval(days => j, secs => 600 * j) AS created_at,
           j,
           CASE WHEN j = 1 THEN 1
                WHEN j <= 5 THEN 2 + (j - 2 + a.id - 1) % 4
                ELSE 6 END AS kind,
           a.name AS account_name
    FROM p
    CROSS JOIN accounts a
    CROSS JOIN generate_series(1, p.per_account) AS j
),
ibx2 AS (
    SELECT i.id, i.account_id, i.created_at, i.kind, i.account_name, k.channel_type,
           CASE WHEN i.kind = 6 THEN k.label || ' ' || (i.j - 4)::text ELSE k.label END AS name,
           k.channel_type = 'Channel::Whatsapp' AS is_whatsapp,
           -- channel ids count per channel table (channel_whatsapp, channel_api, ...).
           row_number() OVER (PARTITION BY k.channel_type ORDER BY i.id) AS channel_id
    FROM ibx i
    JOIN kinds k ON k.kind = i.kind
),
wa AS (
    INSERT INTO channel_whatsapp (id, account_id, phone_number, provider, provider_config,
                                  created_at, updated_at, message_templates, message_templates_last_updated)
    SELECT channel_id, account_id,
           -- The gym's business number: its city's area code (as for its customers in
           -- DemoInsertConversations) and a landline number unique per inbox.
           '+55' || (ARRAY[11, 21, 31, 11, 41, 51, 61, 71, 81, 85, 19, 48])[(account_id - 1) % 12 + 1]::text
               || (30000000 + id * 7919)::text,
           CASE WHEN account_id % 4 = 0 THEN 'default' ELSE 'whatsapp_cloud' END,
           -- Fake credentials: the ETL must never read provider_config.
           jsonb_build_object('api_key', 'demo-' || md5('wa-key' || id::text),
                              'phone_number_id', (105000000000000 + id)::text,
                              'business_account_id', (201000000000000 + account_id)::text),
           created_at, created_at, '{}'::jsonb, NULL
    FROM ibx2
    WHERE is_whatsapp
    ORDER BY channel_id
    RETURNING id
)
INSERT INTO inboxes (id, channel_id, account_id, name, created_at, updated_at, channel_type,
                     enable_auto_assignment, greeting_enabled, working_hours_enabled, out_of_office_message, timezone,
                     enable_email_collect, csat_survey_enabled, allow_messages_after_resolved,
                     lock_to_single_conversation, sender_name_type, business_name)
SELECT id, channel_id, account_id, name, created_at, created_at + interval '1 day', channel_type,
       true, false,
       -- Working hours on every reception number (the inbox a gym's receptionists answer),
       -- so value_in_business_hours is non-zero there and 0 on the other inboxes.
       kind = 1,
       CASE WHEN kind = 1 THEN
           'Olá! Nosso horário de atendimento é de segunda a sexta, das 7h às 22h, e aos sábados, das 8h às 14h. Responderemos assim que possível 😊'
       END,
       CASE WHEN channel_type IN ('Channel::Api', 'Channel::Instagram') THEN 'UTC' ELSE 'America/Sao_Paulo' END,
       true,
       (kind IN (1, 2, 6) AND account_id % 3 <> 2) OR kind = 4,
       true, false, 0, account_name
FROM ibx2
ORDER BY id;

-- name: DemoInsertWorkingHours :execrows
-- DemoInsertWorkingHours creates the seven working_hours rows Chatwoot keeps for every inbox
-- (day_of_week 0 = Sunday): the gyms' reception hours, Monday to Friday 7 h to 22 h, Saturday
-- 8 h to 14 h, Sunday closed, local time of the inbox's timezone. They are the hours
-- DemoInsertConversations has receptionists answer in, and apply only where the inbox has
-- working_hours_enabled.
INSERT INTO working_hours (id, inbox_id, account_id, day_of_week, closed_all_day, open_hour, open_minutes,
                           close_hour, close_minutes, created_at, updated_at, open_all_day)
SELECT row_number() OVER (ORDER BY i.id, d.d), i.id, i.account_id, d.d, d.d = 0,
       CASE d.d WHEN 0 THEN NULL WHEN 6 THEN 8 ELSE 7 END,
       CASE WHEN d.d = 0 THEN NULL ELSE 0 END,
       CASE d.d WHEN 0 THEN NULL WHEN 6 THEN 14 ELSE 22 END,
       CASE WHEN d.d = 0 THEN NULL ELSE 0 END,
       i.created_at, i.created_at, false
FROM inboxes i
CROSS JOIN generate_series(0, 6) AS d(d)
ORDER BY 1;

-- name: DemoInsertAgents :execrows
-- DemoInsertAgents creates the users (Chatwoot agents, global) and their account
-- memberships: one GeniAI support administrator in every account, and per account a
-- manager (administrator) plus four receptionists (agents) with distinct first names.
WITH first_names AS (
    SELECT ARRAY['Ana', 'Bruna', 'Camila', 'Daniela', 'Eduardo', 'Fernanda', 'Gabriel', 'Juliana',
                  'Larissa', 'Lucas', 'Mariana', 'Patrícia', 'Rafael', 'Renata', 'Thiago', 'Vanessa',
                  'Carla', 'Diego', 'Letícia', 'Marcos'] AS names
),
last_names AS (
    SELECT ARRAY['Souza', 'Oliveira', 'Santos', 'Lima', 'Pereira', 'Costa', 'Ferreira', 'Almeida',
                  'Ribeiro', 'Carvalho', 'Gomes', 'Martins', 'Rocha', 'Barbosa', 'Araújo'] AS names
),
p AS (
    SELECT @now::timestamp AS now, @days::int AS days, @seed::bigint AS seed
),
people AS (
    SELECT 1 AS id, 0 AS account_id, 1 AS role, 'Suporte GeniAI' AS name, 'Suporte GeniAI' AS display_name,
           'suporte@geniai.com.br' AS email, 'SuperAdmin' AS type,
           p.now - make_interval(days => p.days + 400) AS created_at
    FROM p
    UNION ALL
    SELECT 1 + (a.id - 1) * 5 + j,
           a.id,
           CASE WHEN j = 1 THEN 1 ELSE 0 END,
           pick.first || ' ' || pick.last,
           pick.first,
           translate(lower(pick.first || '.' || pick.last), 'áàâãéêíóôõúüç', 'aaaaeeiooouuc')
               || '@' || substr(a.domain, 13),
           NULL,
           a.created_at + make_interval(days => j * 3, secs => j * 1234)
    FROM p
    CROSS JOIN accounts a
    CROSS JOIN generate_series(1, 5) AS j
    CROSS JOIN first_names f
    CROSS JOIN last_names l
    CROSS JOIN LATERAL (
        -- j * 7 is distinct modulo 20 for j = 1..5: no two agents of an account share a
        -- first name, so "Conversa foi resolvida por Ana" is unambiguous.
        SELECT f.names[1 + ((abs(hashint8extended(a.id, p.seed) % 20)) + j * 7) % 20] AS first,
               l.names[1 + abs(hashint8extended(a.id * 16 + j, p.seed) % 15)] AS last
    ) AS pick
),
ins AS (
    INSERT INTO users (id, provider, uid, encrypted_password, name, display_name, email, tokens,
                       created_at, updated_at, confirmed_at, pubsub_token, availability, type, sign_in_count)
    SELECT id, 'email', email,
           -- Looks like a bcrypt hash; the ETL must never read credentials.
           '$2a$11$' || substr(md5('pw' || id::text) || md5('salt' || id::text), 1, 53),
           name, display_name, email, '{}'::json,
           created_at, created_at + interval '7 days', created_at,
           md5('pubsub' || people.id::text || p.seed::text), 0, type, 10 + people.id % 50
    FROM people
    CROSS JOIN p
    ORDER BY people.id
    RETURNING id
)
INSERT INTO account_users (id, account_id, user_id, role, created_at, updated_at, active_at, availability, auto_offline)
SELECT row_number() OVER (ORDER BY m.account_id, m.user_id), m.account_id, m.user_id, m.role,
       m.created_at, m.created_at, p.now - make_interval(mins => (m.user_id * 37) % 600), 0, true
FROM p
CROSS JOIN (
    SELECT a.id AS account_id, 1 AS user_id, 1 AS role, a.created_at
    FROM accounts a
    UNION ALL
    SELECT p.account_id, p.id, p.role, p.created_at
    FROM people p
    WHERE p.account_id > 0
) AS m
ORDER BY 1;

-- name: DemoInsertTeams :execrows
-- DemoInsertTeams creates the three teams every gym has.
INSERT INTO teams (id, name, description, allow_auto_assign, account_id, created_at, updated_at)
SELECT (a.id - 1) * 3 + t.n, t.name, t.description, true, a.id,
       a.created_at + make_interval(days => 2, mins => t.n), a.created_at + make_interval(days => 2, mins => t.n)
FROM accounts a
CROSS JOIN (
    SELECT 1 AS n, 'Recepção' AS name, 'Atendimento geral, horários e dúvidas' AS description
    UNION ALL SELECT 2, 'Comercial', 'Planos, matrículas e aulas experimentais'
    UNION ALL SELECT 3, 'Financeiro', 'Pagamentos, cancelamentos e trancamentos'
) AS t
ORDER BY 1;

-- name: DemoInsertLabels :execrows
-- DemoInsertLabels creates each account's label catalogue and the global tags rows
-- (acts-as-taggable-on) for every title. Some labels exist only in some accounts, so
-- the catalogue really differs per account.
WITH catalogue AS (
    SELECT 1 AS n, 'lead' AS title, '#1f93ff' AS color, 'Contato interessado em se matricular' AS description
    UNION ALL SELECT 2, 'visita-agendada', '#44ce4b', 'Visita ou aula experimental agendada'
    UNION ALL SELECT 3, 'matriculado', '#8e44ad', 'Fechou matrícula'
    UNION ALL SELECT 4, 'aula-experimental', '#f5a623', 'Pediu aula experimental'
    UNION ALL SELECT 5, 'preco', '#ffc532', 'Perguntou sobre planos e preços'
    UNION ALL SELECT 6, 'horarios', '#5d7fff', 'Perguntou sobre horários'
    UNION ALL SELECT 7, 'cancelamento', '#ff382d', 'Quer cancelar ou trancar'
    UNION ALL SELECT 8, 'aluno', '#0b846e', 'Aluno ativo'
    UNION ALL SELECT 9, 'plano-anual', '#b96bd6', 'Escolheu o plano anual'
    UNION ALL SELECT 10, 'reclamacao', '#e0115f', 'Reclamação'
    UNION ALL SELECT 11, 'personal', '#2c3e50', 'Interesse em personal trainer'
),
tag_ins AS (
    INSERT INTO tags (id, name, taggings_count)
    SELECT n, title, 0
    FROM catalogue
    ORDER BY n
    RETURNING id
)
INSERT INTO labels (id, title, description, color, show_on_sidebar, account_id, created_at, updated_at)
SELECT row_number() OVER (ORDER BY a.id, c.n), c.title, c.description, c.color, c.n <= 7, a.id,
       a.created_at + make_interval(days => 3, mins => c.n), a.created_at + make_interval(days => 3, mins => c.n)
FROM accounts a
CROSS JOIN catalogue c
WHERE NOT (c.title = 'personal' AND a.id % 2 = 0)
  AND NOT (c.title = 'plano-anual' AND a.id % 3 = 0)
ORDER BY 1;

-- name: DemoSequencesSync :exec
-- DemoSequencesSync moves every serial sequence past the explicitly assigned ids, so
-- rows inserted later (by tests or a real Chatwoot) get fresh ids.
SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT max(id) FROM accounts)),
       setval(pg_get_serial_sequence('inboxes', 'id'), (SELECT max(id) FROM inboxes)),
       setval(pg_get_serial_sequence('working_hours', 'id'), (SELECT max(id) FROM working_hours)),
       setval(pg_get_serial_sequence('channel_whatsapp', 'id'), (SELECT max(id) FROM channel_whatsapp)),
       setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users)),
       setval(pg_get_serial_sequence('account_users', 'id'), (SELECT max(id) FROM account_users)),
       setval(pg_get_serial_sequence('teams', 'id'), (SELECT max(id) FROM teams)),
       setval(pg_get_serial_sequence('tags', 'id'), (SELECT max(id) FROM tags)),
       setval(pg_get_serial_sequence('labels', 'id'), (SELECT max(id) FROM labels)),
       setval(pg_get_serial_sequence('contacts', 'id'), (SELECT max(id) FROM contacts)),
       setval(pg_get_serial_sequence('conversations', 'id'), (SELECT max(id) FROM conversations)),
       setval(pg_get_serial_sequence('messages', 'id'), (SELECT max(id) FROM messages)),
       setval(pg_get_serial_sequence('taggings', 'id'), (SELECT max(id) FROM taggings)),
       setval(pg_get_serial_sequence('csat_survey_responses', 'id'), (SELECT max(id) FROM csat_survey_responses)),
       setval(pg_get_serial_sequence('reporting_events', 'id'), (SELECT max(id) FROM reporting_events));
