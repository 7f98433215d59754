-- Conversation search (analytics.conversation_filter's p_search): "#1374" is that conversation
-- number only; a bare number is also a conversation number, beside phones and words.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.

BEGIN;
\ir fixtures.psql
SELECT plan(8);

INSERT INTO analytics.conversations (tenant_id, conversation_id, account_id, inbox_id, display_id, status, contact_name,
                                     contact_phone, search, created_at, source_updated_at, last_activity_at,
                                     created_day, created_hour, created_dow)
SELECT pg_temp.fx(t), id, 1, inbox, display, 0, name, phone, array_to_tsvector(words), now(), now(), now(), current_date, 10, 1
  FROM (VALUES ('a', 990001, 11, 1374, 'Maria', '+5511999990000', '{oi,quero,preco}'::text[]),
               ('a', 990001, 12, 2, 'Joao', '+5511913740000', '{bom,dia}'),
               ('a', 990001, 13, 3, 'Ana', '', '{pedido,13745}'),
               ('a', 990001, 14, 4, 'Bia', '+5511888880000', '{nada}'),
               ('b', 990002, 11, 1374, 'Outro', '+5521999990000', '{oi}')) v (t, inbox, id, display, name, phone, words);

CREATE FUNCTION pg_temp.found(p_tenant text, p_q text) RETURNS integer[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(display_id ORDER BY display_id), '{}')
      FROM analytics.conversation_filter(pg_temp.fx(p_tenant), current_date - 1, current_date, p_search => p_q)
$$;

SELECT is(pg_temp.found('a', '#1374'), '{1374}', '#1374 finds conversation 1374 only, not the phone or the word with those digits');
SELECT is(pg_temp.found('a', '# 1374'), '{1374}', 'a space after # is allowed');
SELECT is(pg_temp.found('a', '#2'), '{2}', '#2 is conversation 2, not every number containing a 2');
SELECT is(pg_temp.found('a', '#99'), '{}', 'a number no conversation has finds nothing');
SELECT is(pg_temp.found('a', '1374'), '{2,3,1374}', 'a bare number: the conversation, the phone containing it, the word starting with it');
SELECT is(pg_temp.found('b', '#1374'), '{1374}', 'each tenant its own numbers');
SELECT is(pg_temp.found('a', '#12345678901234'), '{}', 'a number too long for a conversation is no error, it finds nothing');
SELECT is(pg_temp.found('a', 'maria'), '{1374}', 'names are still searched');

SELECT * FROM finish();
ROLLBACK;
