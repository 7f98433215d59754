-- Conversation search (analytics.conversation_matches's p_search): "#1374" is that conversation
-- number only; a bare number is also a conversation number, beside phones and words.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.

BEGIN;
\ir fixtures.psql
SELECT plan(13);

INSERT INTO analytics.conversations (tenant_id, conversation_id, account_id, inbox_id, display_id, status, contact_name,
                                     contact_phone, search, created_at, source_updated_at, last_activity_at,
                                     created_day, created_hour, created_dow)
SELECT pg_temp.fx(t), id, 1, inbox, display, 0, name, phone, array_to_tsvector(words), now(), now(), now(), current_date, 10, 1
  FROM (VALUES ('a', 990001, 11, 1374, 'Maria', '+5511999990000', '{oi,quero,preco}'::text[]),
               ('a', 990001, 12, 2, 'Joao', '+5511913740000', '{bom,dia}'),
               ('a', 990001, 13, 3, 'Ana', '', '{pedido,13745}'),
               ('a', 990001, 14, 4, 'Bia', '+5511888880000', '{nada}'),
               ('b', 990002, 11, 1374, 'Outro', '+5521999990000', '{oi}')) v (t, inbox, id, display, name, phone, words);

-- PL/pgSQL, not SQL: Citus cannot plan a parameterised SQL function over a distributed table.
CREATE FUNCTION pg_temp.found(p_tenant text, p_q text, p_all boolean DEFAULT false) RETURNS integer[] LANGUAGE plpgsql AS $$
DECLARE
    t bigint := pg_temp.fx(p_tenant); -- read here: the query runs on a worker, which has no pg_temp.fx
BEGIN
    RETURN (SELECT coalesce(array_agg(c.display_id ORDER BY c.display_id), '{}')
      FROM analytics.conversations c
     WHERE c.tenant_id = t AND c.created_day BETWEEN current_date - 1 AND current_date
       AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
             c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
             c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
             c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
             c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
             NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, p_q, false, NULL, NULL, p_all));
END
$$;

SELECT is(pg_temp.found('a', '#1374'), '{1374}', '#1374 finds conversation 1374 only, not the phone or the word with those digits');
SELECT is(pg_temp.found('a', '# 1374'), '{1374}', 'a space after # is allowed');
SELECT is(pg_temp.found('a', '#2'), '{2}', '#2 is conversation 2, not every number containing a 2');
SELECT is(pg_temp.found('a', '#99'), '{}', 'a number no conversation has finds nothing');
SELECT is(pg_temp.found('a', '1374'), '{2,3,1374}', 'a bare number: the conversation, the phone containing it, the word starting with it');
SELECT is(pg_temp.found('b', '#1374'), '{1374}', 'each tenant its own numbers');
SELECT is(pg_temp.found('a', '#12345678901234'), '{}', 'a number too long for a conversation is no error, it finds nothing');
SELECT is(pg_temp.found('a', 'maria'), '{1374}', 'names are still searched');

-- By author: the contact's words by default, the bot's and agents' with p_search_all.
-- (The tenant's id is read first: on Citus the UPDATE runs on a worker, where pg_temp's functions
-- do not exist.)
SELECT pg_temp.fx('a') AS tenant_a \gset
UPDATE analytics.conversations SET search = analytics.search_document('Carla', ARRAY['1 Horários 2 Preços', 'quero saber o horario', 'Abrimos às 6h'], '{1,0,1}')
 WHERE tenant_id = :tenant_a AND display_id = 2;
UPDATE analytics.conversations SET search = analytics.search_document('Davi', ARRAY['1 Horários 2 Preços', 'quanto custa?'], '{1,0}')
 WHERE tenant_id = :tenant_a AND display_id = 3;
CREATE FUNCTION pg_temp.found_all(p_q text, p_all boolean) RETURNS integer[] LANGUAGE sql AS $$
    SELECT pg_temp.found('a', p_q, p_all)
$$;
SELECT is(pg_temp.found_all('horario', false), '{2}', 'horario: only the contact who wrote it, not every conversation with the bot''s menu');
SELECT is(pg_temp.found_all('horario', true), '{2,3}', 'horario with the bot''s messages: both');
SELECT is(pg_temp.found_all('abrimos', false), '{}', 'an agent''s word alone is not found by default');
SELECT is(pg_temp.found_all('abrimos', true), '{2}', 'and is found with every message');
SELECT tsvector_to_array(search) AS document_3 FROM analytics.conversations WHERE tenant_id = :tenant_a AND display_id = 3 \gset
SELECT is(:'document_3'::text[],
          '{custa,davi,quanto,~1,~2,~horarios,~precos}', 'the document: the contact''s words plain, the others marked, each once');

SELECT * FROM finish();
ROLLBACK;
