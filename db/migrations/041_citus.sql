-- Past one machine (docs/adr/026-citus.md): the same schema serves a single PostgreSQL and a Citus
-- cluster. This migration adds what Citus needs and a single node does not mind:
--   1. app.set_context, the one statement that sets the request context, with SET LOCAL (which
--      Citus replays on the workers a transaction reaches; set_config(..., true) stays on the
--      coordinator, where policies on worker shards cannot see it);
--   2. app.table_placement, where every table says where it lives on a cluster and why (the
--      catalog test fails on a table nobody classified; `geniai db distribute` follows it);
--   3. INSERT on the defaulted columns of etl.runs for the loader: Citus sends an INSERT to a shard
--      with every default already evaluated, so the loader needs the privilege on those columns;
--   4-10. the ETL and the alerts in forms Citus can run (below; the dashboard's queries follow in
--      the next migration).

-- 1. The request context --------------------------------------------------------------------

-- Literals for SET LOCAL are produced here and nowhere else: the role and the app role are checked
-- against the enumerations, ids are typed bigint, and free text (actor, ip, user agent) is quoted by
-- PostgreSQL (format %L). NULL or 0 ids and empty strings mean "unset", which every helper reads as
-- NULL. A NULL role keeps the current one (the bench's BYPASSRLS comparison role; tests).
-- The role is switched with set_config(..., true) on purpose: the coordinator opens worker
-- connections as the current role anyway, and a propagated SET ROLE would break SECURITY DEFINER
-- functions there (their owner may not switch to the caller's role).
CREATE FUNCTION app.set_context(p_role text, p_tenant_id bigint, p_user_id bigint, p_app_role text,
                                p_actor text, p_ip text, p_user_agent text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF p_role IS NOT NULL AND p_role NOT IN ('geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl') THEN
        RAISE EXCEPTION 'set_context: % is not a request role', quote_literal(p_role)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(p_app_role, '') NOT IN ('', 'client', 'admin') AND NOT app.is_staff(p_app_role) THEN
        RAISE EXCEPTION 'set_context: % is not an app role', quote_literal(p_app_role)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_tenant_id < 0 OR p_user_id < 0 THEN
        RAISE EXCEPTION 'set_context: ids are positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- On Citus: replay the SET LOCALs below on every worker the transaction reaches. Without
    -- Citus this only defines a placeholder setting.
    SET LOCAL citus.propagate_set_commands = 'local';
    EXECUTE format('SET LOCAL geniai.tenant_id = %L', coalesce(nullif(p_tenant_id, 0)::text, ''));
    EXECUTE format('SET LOCAL geniai.user_id = %L', coalesce(nullif(p_user_id, 0)::text, ''));
    EXECUTE format('SET LOCAL geniai.app_role = %L', coalesce(p_app_role, ''));
    EXECUTE format('SET LOCAL geniai.actor = %L', coalesce(p_actor, ''));
    EXECUTE format('SET LOCAL geniai.ip = %L', coalesce(p_ip, ''));
    EXECUTE format('SET LOCAL geniai.user_agent = %L', coalesce(p_user_agent, ''));
    IF p_role IS NOT NULL THEN
        PERFORM set_config('role', p_role, true);
    END IF;
END
$$;
COMMENT ON FUNCTION app.set_context(text, bigint, bigint, text, text, text, text) IS
    'First statement of every transaction: switches to a request role and sets the identity (tenant, user, app role, actor, ip, user agent) transaction-locally with SET LOCAL, which Citus replays on the workers. The only place SET LOCAL literals are produced.';
-- The authenticator calls it before switching; the request roles may call it again (it can only
-- switch among the request roles, which membership allows anyway, and re-sets their own identity,
-- which set_config already allows).
-- USAGE on app lets the authenticator name the function; it still holds no privilege on any table
-- there.
GRANT USAGE ON SCHEMA app TO geniai_authenticator;
-- set_context checks the app role with the one definition of staff, as the authenticator.
GRANT EXECUTE ON FUNCTION app.is_staff(text) TO geniai_authenticator;
GRANT EXECUTE ON FUNCTION app.set_context(text, bigint, bigint, text, text, text, text)
    TO geniai_authenticator, geniai_anon, geniai_tenant, geniai_staff, geniai_etl;

-- 2. Where every table lives on a cluster ---------------------------------------------------

CREATE TABLE app.table_placement (
    table_name    text PRIMARY KEY,
    placement     text NOT NULL CONSTRAINT table_placement_known CHECK (placement IN ('distributed', 'reference', 'coordinator')),
    colocate_with text CONSTRAINT table_placement_colocation CHECK ((placement = 'distributed') = (colocate_with IS NOT NULL)),
    reason        text NOT NULL CONSTRAINT table_placement_reason CHECK (length(reason) >= 20)
);
COMMENT ON TABLE app.table_placement IS 'Where each table lives on a Citus cluster and why: distributed by tenant_id (co-located with analytics.conversations), reference (a copy on every node) or coordinator (a plain table on the coordinator only). Every table of the product has a row (a catalog test enforces it); `geniai db distribute` applies it. A migration that creates a table adds its row.';
COMMENT ON COLUMN app.table_placement.table_name IS 'Schema-qualified table name, as regclass prints it.';
COMMENT ON COLUMN app.table_placement.colocate_with IS 'Distributed tables: the table whose shards this one''s follow (analytics.conversations for tenant data), or none for a co-location group of its own.';
REVOKE ALL ON app.table_placement FROM PUBLIC;

INSERT INTO app.table_placement (table_name, placement, colocate_with, reason) VALUES
    ('analytics.conversations', 'distributed', 'none', 'Tenant data, the largest table: sharded by tenant_id; every other distributed table is co-located with it, so a tenant''s queries and merges run on one worker.'),
    ('analytics.inboxes', 'distributed', 'analytics.conversations', 'The tenant''s Chatwoot inboxes and opening hours, joined with its conversations by the merge and the business-hours rebuild.'),
    ('analytics.transcripts', 'distributed', 'analytics.conversations', 'Tenant data (one row per conversation), written in the same merge as its conversation and read by (tenant_id, conversation_id).'),
    ('analytics.daily_stats', 'distributed', 'analytics.conversations', 'Per-tenant rollups rebuilt by the merge from the tenant''s conversations: co-located so the rebuild is one worker''s INSERT ... SELECT.'),
    ('analytics.daily_labels', 'distributed', 'analytics.conversations', 'Per-tenant rollups rebuilt by the merge from the tenant''s conversations: co-located so the rebuild is one worker''s INSERT ... SELECT.'),
    ('analytics.daily_hist', 'distributed', 'analytics.conversations', 'Per-tenant rollups rebuilt by the merge from the tenant''s conversations: co-located so the rebuild is one worker''s INSERT ... SELECT.'),
    ('analytics.tenant_daily_stats', 'distributed', 'analytics.conversations', 'Per-tenant rollups rebuilt by the merge from the tenant''s conversations: co-located so the rebuild is one worker''s INSERT ... SELECT.'),
    ('analytics.tenant_daily_labels', 'distributed', 'analytics.conversations', 'Per-tenant rollups rebuilt by the merge from the tenant''s conversations: co-located so the rebuild is one worker''s INSERT ... SELECT.'),
    ('analytics.tenant_daily_hist', 'distributed', 'analytics.conversations', 'Per-tenant rollups rebuilt by the merge from the tenant''s conversations: co-located so the rebuild is one worker''s INSERT ... SELECT.'),
    ('etl.runs', 'distributed', 'analytics.conversations', 'Per-tenant ETL state, written in the merge transaction with the tenant''s analytics rows and read by tenant.'),
    ('etl.watermarks', 'distributed', 'analytics.conversations', 'Per-tenant ETL state, moved in the merge transaction with the tenant''s analytics rows.'),
    ('audit.events', 'coordinator', NULL, 'Written by SECURITY DEFINER functions (as the owner) inside request transactions that read and write tenant data as a request role; Citus lets only one role touch a shard placement in a transaction, so distributed, a request could not read the trail it just wrote. One row per action or sign-in, not per conversation: it stays on the coordinator, next to the platform tables whose changes it records.'),
    ('app.tenants', 'coordinator', NULL, 'Platform table with change triggers (audit, settings row, updated_at) and column grants: Citus runs a reference table''s triggers once per copy and expands defaulted columns into explicit ones, so it stays a plain coordinator table; tenant queries never join it.'),
    ('app.users', 'coordinator', NULL, 'Platform table with change triggers (audit, role check, updated_at) and column grants (password hashes are readable by no application role): a plain coordinator table, read by the login functions there.'),
    ('app.tenant_inboxes', 'coordinator', NULL, 'Platform table with an audit trigger and a globally unique Chatwoot inbox: a plain coordinator table; the ETL reads a tenant''s mapping before loading it.'),
    ('app.tenant_settings', 'coordinator', NULL, 'Platform table with change triggers (audit, rules version, updated_at): a plain coordinator table; the merge reads the tenant''s rules into variables before touching the tenant''s shards.'),
    ('app.login_throttle', 'coordinator', NULL, 'Sign-in throttling by IP, written on every failed sign-in by the login functions: coordinator-local keeps that path free of distributed transactions.'),
    ('app.login_failures', 'coordinator', NULL, 'Failed sign-ins per e-mail hash and client network, written on every failed sign-in by the login functions: coordinator-local keeps that path free of distributed transactions.'),
    ('app.table_placement', 'coordinator', NULL, 'This classification: read by `geniai db distribute` and the catalog tests on the coordinator.'),
    ('etl.stage_ids', 'coordinator', NULL, 'UNLOGGED staging filled by COPY and emptied within one ETL transaction, keyed by run: local to the coordinator where the loader connects; the merge moves its rows into the tenant''s shards.'),
    ('etl.stage_conversations', 'coordinator', NULL, 'UNLOGGED staging filled by COPY and emptied within one ETL transaction, keyed by run: local to the coordinator where the loader connects; the merge moves its rows into the tenant''s shards.'),
    ('etl.stage_days', 'coordinator', NULL, 'UNLOGGED staging filled and emptied within one ETL transaction, keyed by run: local to the coordinator where the loader connects.'),
    ('public.sessions', 'coordinator', NULL, 'Browser sessions (scs/pgxstore), read and written through the pool outside request transactions: coordinator-local, one round trip, no shard routing.'),
    ('public.schema_version', 'coordinator', NULL, 'tern''s migration version row, read at start-up and by readiness checks.'),
    ('app.user_sessions', 'coordinator', NULL, 'Signed-in browser sessions, read by the per-request principal check next to public.sessions and app.users and purged with FOR UPDATE SKIP LOCKED: coordinator-local, like the session store.'),
    ('app.mail_outbox', 'coordinator', NULL, 'The outgoing e-mail queue, claimed across tenants by the mail worker with FOR UPDATE SKIP LOCKED, which Citus refuses across shards: coordinator-local, as the mail queue''s ADR says.'),
    ('app.mail_attachments', 'coordinator', NULL, 'Files of queued e-mails, written and read with their app.mail_outbox row: coordinator-local with the queue.'),
    ('app.mail_attempts', 'coordinator', NULL, 'Delivery attempts of queued e-mails, opened by the claim and closed by the mail worker in its transactions: coordinator-local with the queue.'),
    ('app.invitations', 'coordinator', NULL, 'Invitation links, looked up by token hash without a tenant (FOR UPDATE) and turned into app.users rows by a definer function: coordinator-local next to app.users.'),
    ('app.password_resets', 'coordinator', NULL, 'Password reset links, looked up by token hash without a tenant (FOR UPDATE) and applied to app.users by a definer function: coordinator-local next to app.users.'),
    ('app.password_reset_throttle', 'coordinator', NULL, 'Reset requests per address and IP in the current hour, no tenant data, purged with FOR UPDATE SKIP LOCKED: coordinator-local like the sign-in throttles.'),
    ('app.digest_subscriptions', 'coordinator', NULL, 'Who gets which digest, scanned across tenants by the digest scheduler: coordinator-local so the scan needs no fan-out and no cross-shard locks.'),
    ('app.digest_deliveries', 'coordinator', NULL, 'One row per digest delivered, inserted in the same transaction as its app.mail_outbox row (delivered once by its key): coordinator-local with the mail queue.'),
    ('analytics.alerts', 'distributed', 'analytics.conversations', 'Every alert fired, per tenant and conversation: etl.fire_alerts inserts them from the tenant''s conversations in one statement, so co-located they are written on the tenant''s worker.'),
    ('app.alert_settings', 'coordinator', NULL, 'Per-tenant alert settings (webhook secret) with an audit trigger: a platform table like app.tenant_settings; etl.fire_alerts reads the row into a variable before touching the tenant''s shards.'),
    ('app.alert_deliveries', 'coordinator', NULL, 'The webhook delivery queue and log of both channels, claimed across tenants with FOR UPDATE SKIP LOCKED, which Citus refuses across shards; e-mail rows point at app.mail_outbox: coordinator-local with the mail queue.'),
    ('app.alert_attempts', 'coordinator', NULL, 'Webhook delivery attempts, written by the sender in the transactions that claim app.alert_deliveries (foreign key to it): coordinator-local with the queue.');

-- Helpers of `geniai db distribute` (internal/pg/citus.go), callable by the owner only; without
-- Citus, distribute stops after app.citus_version().
CREATE FUNCTION app.citus_version() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = 'citus'), '') $$;
COMMENT ON FUNCTION app.citus_version() IS 'Version of the Citus extension in this database, empty without Citus.';

CREATE FUNCTION app.unclassified_tables() RETURNS SETOF text
    LANGUAGE sql STABLE
    AS $$
    SELECT format('%I.%I', n.nspname, c.relname)
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname IN ('app', 'analytics', 'etl', 'audit', 'public')
       AND NOT EXISTS (SELECT FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
       AND NOT EXISTS (SELECT FROM app.table_placement p WHERE to_regclass(p.table_name) = c.oid)
     ORDER BY 1
$$;
COMMENT ON FUNCTION app.unclassified_tables() IS 'Tables of the product that app.table_placement does not classify (a catalog test requires none).';

-- Each classified table that exists, in the order distribute handles them (distributed tables
-- first, those that start a co-location group before those that follow one), with Citus's
-- citus_table_type for it ('distributed', 'reference', 'local' for a coordinator table in Citus's
-- metadata, empty for a plain table) and whether its row-level security is forced. Citus only.
CREATE FUNCTION app.citus_placement_plan()
    RETURNS TABLE (table_name text, placement text, colocate_with text, citus_table_type text, rls_forced boolean)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN QUERY
    SELECT p.table_name, p.placement, p.colocate_with, coalesce(ct.citus_table_type, '')::text, c.relforcerowsecurity
      FROM app.table_placement p
      JOIN pg_class c ON c.oid = to_regclass(p.table_name)
      LEFT JOIN citus_tables ct ON ct.table_name = to_regclass(p.table_name)
     WHERE to_regclass(p.table_name) IS NOT NULL
     ORDER BY p.placement <> 'distributed', p.colocate_with <> 'none', p.table_name;
END
$$;
COMMENT ON FUNCTION app.citus_placement_plan() IS '`geniai db distribute`: every classified table with its current Citus table type, in the order to handle them.';

-- Citus copies a table's existing rows into its shards with COPY, which row-level security
-- refuses even for the owner while RLS is forced: distribute lifts FORCE around that one call.
CREATE FUNCTION app.citus_force_rls(p_table regclass, p_force boolean) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s %s ROW LEVEL SECURITY', p_table, CASE WHEN p_force THEN 'FORCE' ELSE 'NO FORCE' END);
END
$$;
COMMENT ON FUNCTION app.citus_force_rls(regclass, boolean) IS '`geniai db distribute`: forces (or, around the copy of existing rows into shards, stops forcing) row-level security on a table.';

-- The coordinator opens worker connections as the role a request switched to, so the request
-- roles must be able to log in on the workers (pg_hba admits them there only with the
-- coordinator's certificate) while staying unable to log in on the coordinator. Citus copies
-- ALTER ROLE to every node (and copies roles to a worker when it is added), so both changes are
-- made node by node with that copying turned off. Re-run after adding a worker.
CREATE FUNCTION app.citus_role_logins() RETURNS TABLE (node text, result text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    r text;
BEGIN
    PERFORM set_config('citus.enable_alter_role_propagation', 'off', true);
    FOREACH r IN ARRAY ARRAY['geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl'] LOOP
        EXECUTE format('ALTER ROLE %I NOLOGIN', r);
    END LOOP;
    node := 'coordinator'; result := 'NOLOGIN';
    RETURN NEXT;
    RETURN QUERY EXECUTE $q$
        SELECT w.nodename || ':' || w.nodeport, CASE WHEN w.success THEN 'LOGIN' ELSE w.result END
          FROM run_command_on_workers('SET citus.enable_alter_role_propagation = off; '
               'ALTER ROLE geniai_anon LOGIN; ALTER ROLE geniai_tenant LOGIN; '
               'ALTER ROLE geniai_staff LOGIN; ALTER ROLE geniai_etl LOGIN') w
         ORDER BY 1 $q$;
END
$$;
COMMENT ON FUNCTION app.citus_role_logins() IS '`geniai db distribute`: the request roles NOLOGIN on the coordinator and LOGIN on every worker, node by node (Citus copies ALTER ROLE to every node otherwise).';

-- 3. Citus sends the loader's INSERT into etl.runs with every default evaluated on the coordinator
-- (id, started_at, status, the zero counters and the fold's unchanged and checks), so the shard
-- checks INSERT on those columns too.
-- The loader may already UPDATE status and the counters; id is GENERATED ALWAYS (an explicit value
-- is refused without OVERRIDING SYSTEM VALUE); started_at is the one value it could now choose, for
-- its own tenant's run rows only.
GRANT INSERT (id, started_at, status, extracted, inserted, updated, deleted, messages, unchanged, checks) ON etl.runs TO geniai_etl;

-- 4-10. The ETL on Citus: the same merge and functions on one node and a cluster.
-- Staging carries tenant_id and is distributed with the tenant's rows; the funnel functions take
-- the rules as etl.funnel_rules (a function that runs on a worker cannot take the row type of a
-- coordinator table); coordinator tables are read into variables before the statements that
-- write a tenant's shards; no volatile function in an UPDATE of a distributed table; no
-- parameterised SQL-language function over a distributed table (ADR 026 lists these rules).

-- 4. Staging -----------------------------------------------------------------------------------
-- Staging is empty between transactions (and emptied here): the required column, the keys and
-- the index below cost nothing and lock nothing anyone waits on.
TRUNCATE etl.stage_ids, etl.stage_conversations, etl.stage_days;
-- squawk-ignore adding-required-field
ALTER TABLE etl.stage_ids ADD COLUMN tenant_id bigint NOT NULL;
-- squawk-ignore adding-required-field
ALTER TABLE etl.stage_conversations ADD COLUMN tenant_id bigint NOT NULL;
-- squawk-ignore adding-required-field
ALTER TABLE etl.stage_days ADD COLUMN tenant_id bigint NOT NULL;
COMMENT ON COLUMN etl.stage_ids.tenant_id IS 'Tenant of the run (the distribution column on Citus).';
COMMENT ON COLUMN etl.stage_conversations.tenant_id IS 'Tenant of the run (the distribution column on Citus).';
COMMENT ON COLUMN etl.stage_days.tenant_id IS 'Tenant of the run (the distribution column on Citus).';
ALTER TABLE etl.stage_ids DROP CONSTRAINT stage_ids_pkey;
-- squawk-ignore constraint-missing-not-valid,adding-serial-primary-key-field
ALTER TABLE etl.stage_ids ADD PRIMARY KEY (tenant_id, run_id, conversation_id);
ALTER TABLE etl.stage_conversations DROP CONSTRAINT stage_conversations_pkey;
-- squawk-ignore constraint-missing-not-valid,adding-serial-primary-key-field
ALTER TABLE etl.stage_conversations ADD PRIMARY KEY (tenant_id, run_id, conversation_id);
DROP INDEX etl.stage_conversations_chunk_idx;
CREATE INDEX stage_conversations_chunk_idx ON etl.stage_conversations (tenant_id, run_id, chunk);

UPDATE app.table_placement
   SET placement = 'distributed', colocate_with = 'analytics.conversations',
       reason = 'UNLOGGED staging filled by COPY and emptied within one ETL transaction: distributed by tenant_id and co-located, so the merge reads it on the worker that holds the tenant''s rows.'
 WHERE table_name IN ('etl.stage_ids', 'etl.stage_conversations', 'etl.stage_days');

-- 5. Funnel rules --------------------------------------------------------------------------------
CREATE TYPE etl.funnel_rules AS (
    lead_any_message      boolean,
    lead_labels           text[],
    lead_regex            text,
    visit_labels          text[],
    visit_regex           text,
    converted_labels      text[],
    converted_regex       text,
    lead_exclusion_labels text[]
);
COMMENT ON TYPE etl.funnel_rules IS 'A tenant''s funnel rules (the funnel columns of app.tenant_settings), as the funnel functions take them.';

CREATE FUNCTION etl.funnel_rules(s app.tenant_settings) RETURNS etl.funnel_rules
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ROW(s.lead_any_message, s.lead_labels, s.lead_regex, s.visit_labels, s.visit_regex, s.converted_labels, s.converted_regex, s.lead_exclusion_labels)::etl.funnel_rules $$;
COMMENT ON FUNCTION etl.funnel_rules(app.tenant_settings) IS 'The funnel rules of a settings row.';
GRANT EXECUTE ON FUNCTION etl.funnel_rules(app.tenant_settings) TO geniai_etl;

-- The same definitions as before, over etl.funnel_rules.
DROP FUNCTION etl.funnel_stage(app.tenant_settings, text[], text[], integer);
DROP FUNCTION etl.funnel_stage_labels(app.tenant_settings, text[], integer);
CREATE FUNCTION etl.funnel_stage_labels(s etl.funnel_rules, labels text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN labels && s.lead_exclusion_labels THEN 0
        WHEN labels && s.converted_labels THEN 3
        WHEN labels && s.visit_labels THEN 2
        WHEN (s.lead_any_message AND contact_messages > 0) OR labels && s.lead_labels THEN 1
        ELSE 0
    END::smallint
$$;
COMMENT ON FUNCTION etl.funnel_stage_labels(etl.funnel_rules, text[], integer) IS
    'Funnel stage (0-3) reached by labels and the "any contact message" lead rule alone (no regular expressions).';
GRANT EXECUTE ON FUNCTION etl.funnel_stage_labels(etl.funnel_rules, text[], integer) TO geniai_etl;

CREATE FUNCTION etl.funnel_stage(s etl.funnel_rules, labels text[], contact_texts text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN labels && s.lead_exclusion_labels THEN 0 ELSE greatest(etl.funnel_stage_labels(s, labels, contact_messages), CASE
        WHEN s.converted_regex IS NOT NULL
             AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE left(t, etl.funnel_text_cap()) ~* s.converted_regex)
            THEN 3
        WHEN s.visit_regex IS NOT NULL
             AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE left(t, etl.funnel_text_cap()) ~* s.visit_regex)
            THEN 2
        WHEN s.lead_regex IS NOT NULL
             AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE left(t, etl.funnel_text_cap()) ~* s.lead_regex)
            THEN 1
        ELSE 0
    END) END::smallint
$$;
COMMENT ON FUNCTION etl.funnel_stage(etl.funnel_rules, text[], text[], integer) IS
    'Funnel stage (0 none, 1 lead, 2 visit, 3 converted) of a conversation from its labels and contact messages (each on its first etl.funnel_text_cap() characters) under the tenant''s rules; 0 with a lead exclusion label.';
GRANT EXECUTE ON FUNCTION etl.funnel_stage(etl.funnel_rules, text[], text[], integer) TO geniai_etl;

-- 6. Stored conversations --------------------------------------------------------------------------
-- One primary-key probe per id under a generic plan, as before (011_search), on one node. Citus
-- cannot plan that join generically (it routes a statement by its tenant value) and refuses a
-- parameterised SQL-language function over a distributed table: on a cluster the same join runs
-- planned with its values, on the tenant's worker.
CREATE OR REPLACE FUNCTION etl.stored_conversations(p_tenant bigint, p_ids integer[]) RETURNS integer[]
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode = force_generic_plan
    AS $$
DECLARE
    v integer[];
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        SELECT coalesce(array_agg(c.conversation_id), '{}') INTO v
          FROM unnest(p_ids) AS i(id)
          JOIN analytics.conversations c ON c.tenant_id = p_tenant AND c.conversation_id = i.id;
    ELSE
        EXECUTE 'SELECT coalesce(array_agg(c.conversation_id), ''{}'')
                   FROM unnest($2) AS i(id)
                   JOIN analytics.conversations c ON c.tenant_id = $1 AND c.conversation_id = i.id'
           INTO v USING p_tenant, p_ids;
    END IF;
    RETURN v;
END
$$;

-- 7. Per-tenant lookups over the coordinator's tenant list --------------------------------------
-- The staff overviews list app.tenants (a coordinator table) with each tenant's latest run and
-- 60-day activity. A LATERAL subquery over a distributed table, correlated to a coordinator table,
-- is something Citus cannot plan; a PL/pgSQL function called per tenant runs its query as one
-- router query on the tenant's worker. On one node it is the same index probe as the LATERAL
-- subquery was (the run history grows without bound, so a probe per tenant is what keeps the
-- overview fast).
CREATE FUNCTION etl.latest_run(p_tenant bigint) RETURNS SETOF etl.runs
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN QUERY
    SELECT rr.* FROM etl.runs rr
     WHERE rr.tenant_id = p_tenant
     ORDER BY rr.started_at DESC, rr.id DESC
     LIMIT 1;
END
$$;
COMMENT ON FUNCTION etl.latest_run(bigint) IS 'The tenant''s most recent ETL run (none if it never ran); the caller''s row-level security applies.';
GRANT EXECUTE ON FUNCTION etl.latest_run(bigint) TO geniai_staff;

CREATE FUNCTION analytics.tenant_activity(p_tenant bigint, p_today date,
    OUT conversations bigint, OUT leads bigint, OUT prev_conversations bigint, OUT prev_leads bigint)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    SELECT sum(d.conversations) FILTER (WHERE d.day > p_today - 30),
           sum(d.leads) FILTER (WHERE d.day > p_today - 30),
           sum(d.conversations) FILTER (WHERE d.day <= p_today - 30),
           sum(d.leads) FILTER (WHERE d.day <= p_today - 30)
      INTO conversations, leads, prev_conversations, prev_leads
      FROM analytics.tenant_daily_stats d
     WHERE d.tenant_id = p_tenant AND d.day > p_today - 60 AND d.day <= p_today;
END
$$;
COMMENT ON FUNCTION analytics.tenant_activity(bigint, date) IS 'A tenant''s conversations and leads in the 30 days up to p_today and the 30 before (NULL when none); the caller''s row-level security applies.';
GRANT EXECUTE ON FUNCTION analytics.tenant_activity(bigint, date) TO geniai_staff;

-- 8. The merge, the opening hours and the rollups as the earlier migrations left them, with staging
-- filtered by tenant, the funnel over etl.funnel_rules, the clock read once, coordinator tables
-- read before the statements that write shards, and every INSERT ... SELECT taking tenant_id from
-- the rows it reads (Citus pushes such a statement down to the worker; one that writes a constant
-- there instead would be copied through the coordinator, which row-level security refuses).
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
            WHERE NOT EXISTS (SELECT FROM unnest(v_existing) e WHERE e = x.conversation_id)
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
              AND NOT EXISTS (SELECT FROM unnest(v_existing) e WHERE e = sc.conversation_id)
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
COMMENT ON FUNCTION etl.merge_chunk(bigint, integer) IS
    'Merges one staged chunk of a running run of the current tenant (conversations with their metrics, one transcript row each, counts on etl.runs, affected days in etl.stage_days); etl.merge_run completes the run.';

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
    rules      etl.funnel_rules;
    tz         text;
    w          etl.watermarks;
    rebuild    boolean;
    has_regex  boolean;
    v_gone     integer[];
    v_days     date[];
    v_del      integer;
    v_max      timestamptz;
    v_now      timestamptz;
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
    rules := etl.funnel_rules(s);
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
        SELECT si.conversation_id FROM etl.stage_ids si WHERE si.tenant_id = t AND si.run_id = p_run_id);

    -- Days that lose rows: current days of conversations about to disappear.
    INSERT INTO etl.stage_days (tenant_id, run_id, day)
    SELECT DISTINCT c.tenant_id, p_run_id, c.created_day
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

    v_days := ARRAY(SELECT DISTINCT sd.day FROM etl.stage_days sd WHERE sd.tenant_id = t AND sd.run_id = p_run_id);

    IF rebuild THEN
        -- Timezone, funnel rules, exclusion labels or SLA target changed: recompute from stored
        -- data, no source read.
        WITH cur AS (
            SELECT c.conversation_id,
                   (c.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN
                       etl.funnel_stage(rules, c.labels,
                           coalesce((SELECT analytics.contact_texts(tr.message_senders, tr.message_contents)
                                     FROM analytics.transcripts tr
                                     WHERE tr.tenant_id = t AND tr.conversation_id = c.conversation_id), '{}'),
                           c.contact_messages)
                   ELSE etl.funnel_stage_labels(rules, c.labels, c.contact_messages) END AS stage
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
        -- Business time and SLA instants (the tenant's timezone applies to inboxes without one).
        PERFORM etl.apply_business_hours(p_run_id, NULL);
        PERFORM etl.refresh_daily_stats(NULL);
    ELSIF cardinality(v_days) > 0 THEN
        PERFORM etl.refresh_daily_stats(v_days);
    END IF;

    SELECT max(si.updated_at) INTO v_max FROM etl.stage_ids si WHERE si.tenant_id = t AND si.run_id = p_run_id;

    -- Citus refuses a volatile function in an UPDATE of a distributed table: the clock is read once.
    v_now := clock_timestamp();
    UPDATE etl.runs r
    SET status = 'succeeded', finished_at = v_now, deleted = v_del
    WHERE r.tenant_id = t AND r.id = p_run_id;

    INSERT INTO etl.watermarks AS wm (tenant_id, source_updated_at, last_success_at, last_run_id, updated_at, timezone, rules_version, reread_all)
    VALUES (t, v_max, v_now, p_run_id, v_now, tz, s.rules_version, false)
    ON CONFLICT (tenant_id) DO UPDATE SET
        source_updated_at = greatest(wm.source_updated_at, EXCLUDED.source_updated_at),
        last_success_at = EXCLUDED.last_success_at, last_run_id = EXCLUDED.last_run_id,
        updated_at = EXCLUDED.updated_at, timezone = EXCLUDED.timezone, rules_version = EXCLUDED.rules_version,
        reread_all = false;

    -- Staging never outlives the transaction that filled it.
    DELETE FROM etl.stage_conversations sc WHERE sc.tenant_id = t AND sc.run_id = p_run_id;
    DELETE FROM etl.stage_days sd WHERE sd.tenant_id = t AND sd.run_id = p_run_id;
    DELETE FROM etl.stage_ids si WHERE si.tenant_id = t AND si.run_id = p_run_id;
END
$$;
COMMENT ON FUNCTION etl.merge_run(bigint) IS
    'Applies a staged run of the current tenant in the caller''s transaction: upsert conversations and transcripts, funnel, deletions, daily rollups of affected days, run counts (on etl.runs) and watermark.';

CREATE OR REPLACE FUNCTION etl.apply_business_hours(p_run_id bigint, p_inboxes integer[])
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    AS $$
DECLARE
    t   bigint := app.current_tenant_id();
    tz  text;
    sla integer;
    v_n bigint;
BEGIN
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    SELECT ts.sla_seconds INTO STRICT sla FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    WITH x AS (
        SELECT c.conversation_id,
               analytics.business_seconds(c.first_contact_at, c.first_reply_at, coalesce(ib.timezone, tz), ib.week) AS frb,
               analytics.business_seconds(c.first_contact_at, c.first_human_reply_at, coalesce(ib.timezone, tz), ib.week) AS fhb,
               analytics.business_seconds(c.created_at, c.resolved_at, coalesce(ib.timezone, tz), ib.week) AS rb,
               analytics.business_seconds(c.human_wait_from, c.human_wait_reply_at, coalesce(ib.timezone, tz), ib.week) AS hwb,
               CASE WHEN c.human_wait_reply_at IS NULL
                    THEN analytics.business_add(c.human_wait_from, sla, coalesce(ib.timezone, tz), ib.week) END AS hwd,
               analytics.business_add(c.waiting_since, sla, coalesce(ib.timezone, tz), ib.week) AS wd
        FROM analytics.conversations c
        LEFT JOIN analytics.inboxes ib ON ib.tenant_id = t AND ib.inbox_id = c.inbox_id
        WHERE c.tenant_id = t AND (p_inboxes IS NULL OR c.inbox_id = ANY (p_inboxes))
    ), up AS (
        UPDATE analytics.conversations c
        SET first_reply_business_seconds = x.frb, first_human_reply_business_seconds = x.fhb,
            resolution_business_seconds = x.rb, human_wait_business_seconds = x.hwb,
            human_wait_due_at = x.hwd, waiting_due_at = x.wd
        FROM x
        WHERE c.tenant_id = t AND c.conversation_id = x.conversation_id
          AND (c.first_reply_business_seconds, c.first_human_reply_business_seconds, c.resolution_business_seconds,
               c.human_wait_business_seconds, c.human_wait_due_at, c.waiting_due_at)
              IS DISTINCT FROM (x.frb, x.fhb, x.rb, x.hwb, x.hwd, x.wd)
        RETURNING c.tenant_id, c.created_day
    ), days AS (
        INSERT INTO etl.stage_days (tenant_id, run_id, day)
        SELECT DISTINCT up.tenant_id, p_run_id, up.created_day FROM up
        RETURNING 1
    )
    -- A SELECT over the writing CTEs: Citus sends the statement whole to the tenant's worker.
    SELECT count(*) INTO v_n FROM days;
END
$$;

CREATE OR REPLACE FUNCTION etl.sync_inboxes(p_run_id bigint, p_ids integer[], p_channels text[], p_timezones text[],
                                 p_enabled boolean[], p_signatures text[], p_wh_inboxes integer[], p_wh_days integer[],
                                 p_wh_closed boolean[], p_wh_open_all boolean[], p_wh_open_hours integer[],
                                 p_wh_open_minutes integer[], p_wh_close_hours integer[], p_wh_close_minutes integer[])
    RETURNS TABLE (inbox_id integer, source_timezone text)
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    AS $$
DECLARE
    t       bigint := app.current_tenant_id();
    mine    integer[];
    known   text[];
    changed integer[];
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.sync_inboxes: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.sync_inboxes: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The tenant's inboxes, read from the coordinator's table before the statement that writes its
    -- shards (Citus cannot join a coordinator table into a statement it sends to a worker), and
    -- each timezone checked alone: app.is_valid_timezone traps an error, which inside a statement
    -- that keeps worker connections busy would make Citus abort the transaction.
    mine := ARRAY(SELECT ti.inbox_id FROM app.tenant_inboxes ti WHERE ti.tenant_id = t);
    known := ARRAY(SELECT CASE WHEN app.is_valid_timezone(z.tz) THEN z.tz END
                     FROM unnest(p_timezones) WITH ORDINALITY AS z(tz, n) ORDER BY z.n);
    WITH src AS (
        SELECT i.id AS inbox_id, coalesce(i.channel, '') AS channel_type, coalesce(i.tz, '') AS source_timezone,
               i.known AS timezone,
               coalesce(i.enabled, false) AS hours_enabled,
               CASE WHEN coalesce(i.enabled, false) THEN
                   (SELECT analytics.week_hours(array_agg(w.day ORDER BY w.n), array_agg(w.closed ORDER BY w.n),
                                                array_agg(w.open_all ORDER BY w.n), array_agg(w.oh ORDER BY w.n),
                                                array_agg(w.om ORDER BY w.n), array_agg(w.ch ORDER BY w.n),
                                                array_agg(w.cm ORDER BY w.n))
                    FROM unnest(p_wh_inboxes, p_wh_days, p_wh_closed, p_wh_open_all, p_wh_open_hours, p_wh_open_minutes,
                                p_wh_close_hours, p_wh_close_minutes) WITH ORDINALITY AS w(inbox, day, closed, open_all, oh, om, ch, cm, n)
                    WHERE w.inbox = i.id)
               END AS week,
               i.sig AS signature
        FROM unnest(p_ids, p_channels, p_timezones, p_enabled, p_signatures, known) AS i(id, channel, tz, enabled, sig, known)
        -- only the tenant's inboxes, whatever the caller passed
        WHERE i.id = ANY (mine)
    ), up AS (
        INSERT INTO analytics.inboxes AS ib (tenant_id, inbox_id, channel_type, source_timezone, timezone, hours_enabled,
                                             week, signature, synced_at)
        SELECT t, s.inbox_id, s.channel_type, s.source_timezone, s.timezone, s.hours_enabled, s.week, s.signature, now()
        FROM src s
        WHERE NOT EXISTS (SELECT FROM analytics.inboxes x WHERE x.tenant_id = t AND x.inbox_id = s.inbox_id
                                                             AND x.signature = s.signature)
        ON CONFLICT ON CONSTRAINT inboxes_pkey DO UPDATE SET
            channel_type = EXCLUDED.channel_type, source_timezone = EXCLUDED.source_timezone,
            timezone = EXCLUDED.timezone, hours_enabled = EXCLUDED.hours_enabled, week = EXCLUDED.week,
            signature = EXCLUDED.signature, synced_at = EXCLUDED.synced_at
        RETURNING ib.inbox_id
    ), gone AS (
        DELETE FROM analytics.inboxes ib
        WHERE ib.tenant_id = t AND ib.inbox_id NOT IN (SELECT s.inbox_id FROM src s)
        RETURNING ib.inbox_id
    )
    SELECT ARRAY(SELECT up.inbox_id FROM up UNION SELECT gone.inbox_id FROM gone) INTO changed;

    IF cardinality(changed) > 0 THEN
        PERFORM etl.apply_business_hours(p_run_id, changed);
    END IF;

    RETURN QUERY SELECT ib.inbox_id, ib.source_timezone FROM analytics.inboxes ib
                 WHERE ib.tenant_id = t AND ib.timezone IS NULL ORDER BY 1;
END
$$;

CREATE OR REPLACE FUNCTION etl.refresh_inbox_rollups(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog'
    AS $$
DECLARE
    t   bigint := app.current_tenant_id();
    sla integer;
    v_n bigint;
BEGIN
    SELECT ts.sla_seconds INTO sla FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    DELETE FROM analytics.daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.daily_stats (tenant_id, day, inbox_id,
        conversations, leads, visits, conversions, unanswered, unanswered_leads, resolved,
        bot_resolved, handoffs, with_bot, first_reply_count, first_reply_sum, first_reply_lt_1m,
        first_reply_1m_5m, first_reply_5m_15m, first_reply_15m_1h, first_reply_1h_4h,
        first_reply_4h_24h, first_reply_gt_24h, first_human_reply_count, first_human_reply_sum,
        resolution_count, resolution_sum, csat_responses, csat_satisfied, csat_1, csat_2, csat_3,
        csat_4, csat_5,
        first_reply_business_sum, first_reply_business_lt_1m, first_reply_business_1m_5m,
        first_reply_business_5m_15m, first_reply_business_15m_1h, first_reply_business_1h_4h,
        first_reply_business_4h_24h, first_reply_business_gt_24h, first_human_reply_business_sum,
        resolution_business_sum, handoff_requests, human_wait_count, human_wait_sum,
        human_wait_business_sum, sla_within, sla_late)
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
           coalesce(sum(c.first_reply_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.first_reply_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_seconds >= 60 AND c.first_reply_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_seconds >= 300 AND c.first_reply_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_seconds >= 900 AND c.first_reply_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_seconds >= 3600 AND c.first_reply_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 14400 AND c.first_reply_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 86400),
           count(c.first_human_reply_seconds),
           coalesce(sum(c.first_human_reply_seconds::numeric)::float8, 0),
           count(c.resolution_seconds),
           coalesce(sum(c.resolution_seconds::numeric)::float8, 0),
           count(c.csat_rating),
           count(*) FILTER (WHERE c.csat_rating >= 4),
           count(*) FILTER (WHERE c.csat_rating = 1),
           count(*) FILTER (WHERE c.csat_rating = 2),
           count(*) FILTER (WHERE c.csat_rating = 3),
           count(*) FILTER (WHERE c.csat_rating = 4),
           count(*) FILTER (WHERE c.csat_rating = 5),
           coalesce(sum(c.first_reply_business_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.first_reply_business_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 60 AND c.first_reply_business_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 300 AND c.first_reply_business_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 900 AND c.first_reply_business_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 3600 AND c.first_reply_business_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 14400 AND c.first_reply_business_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 86400),
           coalesce(sum(c.first_human_reply_business_seconds::numeric)::float8, 0),
           coalesce(sum(c.resolution_business_seconds::numeric)::float8, 0),
           count(c.handoff_requested_at),
           count(c.human_wait_seconds),
           coalesce(sum(c.human_wait_seconds::numeric)::float8, 0),
           coalesce(sum(c.human_wait_business_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.human_wait_business_seconds <= sla),
           count(*) FILTER (WHERE c.human_wait_business_seconds > sla)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY c.tenant_id, c.created_day, c.inbox_id;

    -- Distributions (metrics: analytics.daily_hist.metric): one grouped pass per metric (cheaper than one pass over four times the
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
        UNION ALL
        SELECT c.created_day, c.inbox_id, 5::smallint, analytics.hist_bucket(c.first_reply_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_reply_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 6::smallint, analytics.hist_bucket(c.first_human_reply_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_human_reply_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 7::smallint, analytics.hist_bucket(c.resolution_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.resolution_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 8::smallint, analytics.hist_bucket(c.human_wait_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.human_wait_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 9::smallint, analytics.hist_bucket(c.human_wait_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.human_wait_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
    ), per_inbox AS (
        INSERT INTO analytics.daily_hist (tenant_id, day, inbox_id, metric, buckets, counts)
        SELECT t, k.day, k.inbox_id, k.metric, array_agg(k.bucket ORDER BY k.bucket), array_agg(k.n ORDER BY k.bucket)
        FROM counted k
        GROUP BY k.day, k.inbox_id, k.metric
        RETURNING 1
    ), tenant_level AS (
        INSERT INTO analytics.tenant_daily_hist (tenant_id, day, metric, buckets, counts, by_inbox)
        SELECT t, s.day, s.metric, s.buckets, s.counts, b.by_inbox
        FROM (SELECT x.day, x.metric, array_agg(x.bucket ORDER BY x.bucket) AS buckets, array_agg(x.n ORDER BY x.bucket) AS counts
              FROM (SELECT k.day, k.metric, k.bucket, sum(k.n)::integer AS n FROM counted k GROUP BY 1, 2, 3) x
              GROUP BY x.day, x.metric) s
        LEFT JOIN (SELECT k.day, k.metric, string_agg(int4send(k.inbox_id) || int2send(k.bucket) || int4send(k.n), ''::bytea
                                                      ORDER BY k.inbox_id, k.bucket) AS by_inbox
                   FROM counted k
                   WHERE k.metric IN (1, 5)
                   GROUP BY k.day, k.metric) b ON b.metric = s.metric AND b.day = s.day
        RETURNING 1
    )
    -- A SELECT over the writing CTEs, not an INSERT ... SELECT: Citus sends the whole statement to
    -- the tenant's worker (an INSERT ... SELECT it could not push down would COPY through the
    -- coordinator, which row-level security refuses).
    SELECT (SELECT count(*) FROM per_inbox) + (SELECT count(*) FROM tenant_level) INTO v_n;

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

CREATE OR REPLACE FUNCTION etl.refresh_tenant_rollups(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog'
    AS $$
DECLARE
    t   bigint := app.current_tenant_id();
    v_n bigint;
BEGIN
    DELETE FROM analytics.tenant_daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    -- A SELECT over a writing CTE: Citus sends it whole to the tenant's worker.
    WITH ins AS (
        INSERT INTO analytics.tenant_daily_stats (tenant_id, day, inbox_id,
            conversations, leads, visits, conversions, unanswered, unanswered_leads, resolved,
            bot_resolved, handoffs, with_bot, first_reply_count, first_reply_sum, first_reply_lt_1m,
            first_reply_1m_5m, first_reply_5m_15m, first_reply_15m_1h, first_reply_1h_4h,
            first_reply_4h_24h, first_reply_gt_24h, first_human_reply_count, first_human_reply_sum,
            resolution_count, resolution_sum, csat_responses, csat_satisfied, csat_1, csat_2, csat_3,
            csat_4, csat_5,
            first_reply_business_sum, first_reply_business_lt_1m, first_reply_business_1m_5m,
            first_reply_business_5m_15m, first_reply_business_15m_1h, first_reply_business_1h_4h,
            first_reply_business_4h_24h, first_reply_business_gt_24h, first_human_reply_business_sum,
            resolution_business_sum, handoff_requests, human_wait_count, human_wait_sum,
            human_wait_business_sum, sla_within, sla_late)
        SELECT t, d.day, 0,
               sum(d.conversations), sum(d.leads), sum(d.visits), sum(d.conversions),
               sum(d.unanswered), sum(d.unanswered_leads), sum(d.resolved), sum(d.bot_resolved),
               sum(d.handoffs), sum(d.with_bot), sum(d.first_reply_count), sum(d.first_reply_sum::numeric)::float8,
               sum(d.first_reply_lt_1m), sum(d.first_reply_1m_5m), sum(d.first_reply_5m_15m),
               sum(d.first_reply_15m_1h), sum(d.first_reply_1h_4h), sum(d.first_reply_4h_24h),
               sum(d.first_reply_gt_24h), sum(d.first_human_reply_count), sum(d.first_human_reply_sum::numeric)::float8,
               sum(d.resolution_count), sum(d.resolution_sum::numeric)::float8, sum(d.csat_responses),
               sum(d.csat_satisfied), sum(d.csat_1), sum(d.csat_2), sum(d.csat_3), sum(d.csat_4),
               sum(d.csat_5),
               sum(d.first_reply_business_sum::numeric)::float8, sum(d.first_reply_business_lt_1m), sum(d.first_reply_business_1m_5m),
               sum(d.first_reply_business_5m_15m), sum(d.first_reply_business_15m_1h), sum(d.first_reply_business_1h_4h),
               sum(d.first_reply_business_4h_24h), sum(d.first_reply_business_gt_24h), sum(d.first_human_reply_business_sum::numeric)::float8,
               sum(d.resolution_business_sum::numeric)::float8, sum(d.handoff_requests), sum(d.human_wait_count), sum(d.human_wait_sum::numeric)::float8,
               sum(d.human_wait_business_sum::numeric)::float8, sum(d.sla_within), sum(d.sla_late)
        FROM analytics.daily_stats d
        WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days))
        GROUP BY d.day
        RETURNING 1
    )
    SELECT count(*) INTO v_n FROM ins;

    DELETE FROM analytics.tenant_daily_labels d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    -- A SELECT over a writing CTE: Citus sends it whole to the tenant's worker.
    WITH ins AS (
        INSERT INTO analytics.tenant_daily_labels (tenant_id, day, inbox_id, label, conversations, leads, conversions)
        SELECT t, d.day, 0, d.label, sum(d.conversations), sum(d.leads), sum(d.conversions)
        FROM analytics.daily_labels d
        WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days))
        GROUP BY d.day, d.label
        RETURNING 1
    )
    SELECT count(*) INTO v_n FROM ins;
END
$$;

-- 9. Alerts: the tenant's timezone is read into a variable first (app.tenants stays on the
-- coordinator; the statement that writes analytics.alerts runs on the tenant's worker).
CREATE OR REPLACE FUNCTION etl.fire_alerts() RETURNS SETOF uuid
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog'
    AS $$
DECLARE
    t      bigint := app.current_tenant_id();
    s      app.alert_settings;
    synced timestamptz;
    tz_t   text;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.fire_alerts: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO s FROM app.alert_settings a WHERE a.tenant_id = t;
    IF NOT FOUND OR NOT (s.sla_enabled OR s.window_enabled)
       OR (cardinality(s.email_to) = 0 AND s.webhook_url IS NULL) THEN
        RETURN;
    END IF;
    SELECT tn.timezone INTO tz_t FROM app.tenants tn WHERE tn.id = t;
    SELECT w.source_checked_at INTO synced FROM etl.watermarks w WHERE w.tenant_id = t;
    IF synced IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH cand AS (
        SELECT c.conversation_id, 'sla'::text AS kind, c.waiting_since, c.inbox_id, c.account_id, c.display_id,
               c.contact_name, c.window_closes_at, coalesce(ib.timezone, tz_t) AS tz, ib.week
        FROM analytics.conversations c
        LEFT JOIN analytics.inboxes ib ON ib.tenant_id = c.tenant_id AND ib.inbox_id = c.inbox_id
        WHERE s.sla_enabled AND c.tenant_id = t AND c.waiting_since IS NOT NULL
          AND c.waiting_due_at < synced AND c.waiting_due_at >= synced - interval '24 hours'
          AND analytics.is_open_at(synced, coalesce(ib.timezone, tz_t), ib.week)
        UNION ALL
        SELECT c.conversation_id, 'window'::text, c.waiting_since, c.inbox_id, c.account_id, c.display_id,
               c.contact_name, c.window_closes_at, coalesce(ib.timezone, tz_t), ib.week
        FROM analytics.conversations c
        LEFT JOIN analytics.inboxes ib ON ib.tenant_id = c.tenant_id AND ib.inbox_id = c.inbox_id
        WHERE s.window_enabled AND c.tenant_id = t AND c.waiting_since IS NOT NULL
          AND c.window_closes_at > synced AND c.window_closes_at <= synced + interval '2 hours'
    ), ins AS (
        INSERT INTO analytics.alerts AS a (tenant_id, conversation_id, kind, episode, synced_at, inbox_id, account_id,
                                           display_id, contact_name, wait_business_seconds, window_closes_at)
        SELECT t, x.conversation_id, x.kind, x.waiting_since, synced, x.inbox_id, x.account_id, x.display_id,
               x.contact_name, coalesce(analytics.business_seconds(x.waiting_since, synced, x.tz, x.week), 0),
               x.window_closes_at
        FROM cand x
        ON CONFLICT ON CONSTRAINT alerts_pkey DO NOTHING
        RETURNING a.event_id
    )
    SELECT ins.event_id FROM ins;
END
$$;

---- create above / drop below ----


DROP FUNCTION analytics.tenant_activity(bigint, date);
DROP FUNCTION etl.latest_run(bigint);
DROP FUNCTION etl.stored_conversations(bigint, integer[]);
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

-- The merge, the opening hours and the rollups as the earlier migrations left them (they use the
-- funnel functions over app.tenant_settings, created back first).
CREATE FUNCTION etl.funnel_stage_labels(s app.tenant_settings, labels text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN labels && s.lead_exclusion_labels THEN 0
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
    SELECT CASE WHEN labels && s.lead_exclusion_labels THEN 0 ELSE greatest(etl.funnel_stage_labels(s, labels, contact_messages), CASE
        WHEN s.converted_regex IS NOT NULL
             AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE left(t, etl.funnel_text_cap()) ~* s.converted_regex)
            THEN 3
        WHEN s.visit_regex IS NOT NULL
             AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE left(t, etl.funnel_text_cap()) ~* s.visit_regex)
            THEN 2
        WHEN s.lead_regex IS NOT NULL
             AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE left(t, etl.funnel_text_cap()) ~* s.lead_regex)
            THEN 1
        ELSE 0
    END) END::smallint
$$;
COMMENT ON FUNCTION etl.funnel_stage(app.tenant_settings, text[], text[], integer) IS
    'Funnel stage (0 none, 1 lead, 2 visit, 3 converted) of a conversation from its labels and contact messages (each on its first etl.funnel_text_cap() characters) under the tenant''s rules; 0 with a lead exclusion label.';
GRANT EXECUTE ON FUNCTION etl.funnel_stage(app.tenant_settings, text[], text[], integer) TO geniai_etl;
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
    SELECT count(*)::integer INTO v_extract FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk;
    IF v_extract = 0 THEN
        RETURN;
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
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
                   CASE WHEN has_regex THEN etl.funnel_stage(s, sc.labels, analytics.contact_texts(sc.message_senders, sc.message_contents), sc.contact_messages)
                        ELSE etl.funnel_stage_labels(s, sc.labels, sc.contact_messages) END AS stage,
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
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk
            OFFSET 0
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
            INSERT INTO analytics.conversations (
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
        -- Timezone, funnel rules, exclusion labels or SLA target changed: recompute from stored
        -- data, no source read.
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
        -- Business time and SLA instants (the tenant's timezone applies to inboxes without one).
        PERFORM etl.apply_business_hours(p_run_id, NULL);
        PERFORM etl.refresh_daily_stats(NULL);
    ELSIF cardinality(v_days) > 0 THEN
        PERFORM etl.refresh_daily_stats(v_days);
    END IF;

    SELECT max(si.updated_at) INTO v_max FROM etl.stage_ids si WHERE si.run_id = p_run_id;

    UPDATE etl.runs r
    SET status = 'succeeded', finished_at = clock_timestamp(), deleted = v_del
    WHERE r.tenant_id = t AND r.id = p_run_id;

    INSERT INTO etl.watermarks AS wm (tenant_id, source_updated_at, last_success_at, last_run_id, updated_at, timezone, rules_version, reread_all)
    VALUES (t, v_max, clock_timestamp(), p_run_id, clock_timestamp(), tz, s.rules_version, false)
    ON CONFLICT (tenant_id) DO UPDATE SET
        source_updated_at = greatest(wm.source_updated_at, EXCLUDED.source_updated_at),
        last_success_at = EXCLUDED.last_success_at, last_run_id = EXCLUDED.last_run_id,
        updated_at = EXCLUDED.updated_at, timezone = EXCLUDED.timezone, rules_version = EXCLUDED.rules_version,
        reread_all = false;

    -- Staging never outlives the transaction that filled it.
    DELETE FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id;
    DELETE FROM etl.stage_days sd WHERE sd.run_id = p_run_id;
    DELETE FROM etl.stage_ids si WHERE si.run_id = p_run_id;
END
$$;
CREATE OR REPLACE FUNCTION etl.apply_business_hours(p_run_id bigint, p_inboxes integer[])
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    AS $$
DECLARE
    t   bigint := app.current_tenant_id();
    tz  text;
    sla integer;
BEGIN
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    SELECT ts.sla_seconds INTO STRICT sla FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    WITH x AS (
        SELECT c.conversation_id,
               analytics.business_seconds(c.first_contact_at, c.first_reply_at, coalesce(ib.timezone, tz), ib.week) AS frb,
               analytics.business_seconds(c.first_contact_at, c.first_human_reply_at, coalesce(ib.timezone, tz), ib.week) AS fhb,
               analytics.business_seconds(c.created_at, c.resolved_at, coalesce(ib.timezone, tz), ib.week) AS rb,
               analytics.business_seconds(c.human_wait_from, c.human_wait_reply_at, coalesce(ib.timezone, tz), ib.week) AS hwb,
               CASE WHEN c.human_wait_reply_at IS NULL
                    THEN analytics.business_add(c.human_wait_from, sla, coalesce(ib.timezone, tz), ib.week) END AS hwd,
               analytics.business_add(c.waiting_since, sla, coalesce(ib.timezone, tz), ib.week) AS wd
        FROM analytics.conversations c
        LEFT JOIN analytics.inboxes ib ON ib.tenant_id = t AND ib.inbox_id = c.inbox_id
        WHERE c.tenant_id = t AND (p_inboxes IS NULL OR c.inbox_id = ANY (p_inboxes))
    ), up AS (
        UPDATE analytics.conversations c
        SET first_reply_business_seconds = x.frb, first_human_reply_business_seconds = x.fhb,
            resolution_business_seconds = x.rb, human_wait_business_seconds = x.hwb,
            human_wait_due_at = x.hwd, waiting_due_at = x.wd
        FROM x
        WHERE c.tenant_id = t AND c.conversation_id = x.conversation_id
          AND (c.first_reply_business_seconds, c.first_human_reply_business_seconds, c.resolution_business_seconds,
               c.human_wait_business_seconds, c.human_wait_due_at, c.waiting_due_at)
              IS DISTINCT FROM (x.frb, x.fhb, x.rb, x.hwb, x.hwd, x.wd)
        RETURNING c.created_day
    )
    INSERT INTO etl.stage_days (run_id, day)
    SELECT DISTINCT p_run_id, up.created_day FROM up;
END
$$;
CREATE OR REPLACE FUNCTION etl.sync_inboxes(p_run_id bigint, p_ids integer[], p_channels text[], p_timezones text[],
                                 p_enabled boolean[], p_signatures text[], p_wh_inboxes integer[], p_wh_days integer[],
                                 p_wh_closed boolean[], p_wh_open_all boolean[], p_wh_open_hours integer[],
                                 p_wh_open_minutes integer[], p_wh_close_hours integer[], p_wh_close_minutes integer[])
    RETURNS TABLE (inbox_id integer, source_timezone text)
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    AS $$
DECLARE
    t       bigint := app.current_tenant_id();
    changed integer[];
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.sync_inboxes: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.sync_inboxes: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    WITH src AS (
        SELECT i.id AS inbox_id, coalesce(i.channel, '') AS channel_type, coalesce(i.tz, '') AS source_timezone,
               CASE WHEN app.is_valid_timezone(i.tz) THEN i.tz END AS timezone,
               coalesce(i.enabled, false) AS hours_enabled,
               CASE WHEN coalesce(i.enabled, false) THEN
                   (SELECT analytics.week_hours(array_agg(w.day ORDER BY w.n), array_agg(w.closed ORDER BY w.n),
                                                array_agg(w.open_all ORDER BY w.n), array_agg(w.oh ORDER BY w.n),
                                                array_agg(w.om ORDER BY w.n), array_agg(w.ch ORDER BY w.n),
                                                array_agg(w.cm ORDER BY w.n))
                    FROM unnest(p_wh_inboxes, p_wh_days, p_wh_closed, p_wh_open_all, p_wh_open_hours, p_wh_open_minutes,
                                p_wh_close_hours, p_wh_close_minutes) WITH ORDINALITY AS w(inbox, day, closed, open_all, oh, om, ch, cm, n)
                    WHERE w.inbox = i.id)
               END AS week,
               i.sig AS signature
        FROM unnest(p_ids, p_channels, p_timezones, p_enabled, p_signatures) AS i(id, channel, tz, enabled, sig)
        -- only the tenant's inboxes, whatever the caller passed
        WHERE i.id IN (SELECT ti.inbox_id FROM app.tenant_inboxes ti WHERE ti.tenant_id = t)
    ), up AS (
        INSERT INTO analytics.inboxes AS ib (tenant_id, inbox_id, channel_type, source_timezone, timezone, hours_enabled,
                                             week, signature, synced_at)
        SELECT t, s.inbox_id, s.channel_type, s.source_timezone, s.timezone, s.hours_enabled, s.week, s.signature, now()
        FROM src s
        WHERE NOT EXISTS (SELECT FROM analytics.inboxes x WHERE x.tenant_id = t AND x.inbox_id = s.inbox_id
                                                             AND x.signature = s.signature)
        ON CONFLICT ON CONSTRAINT inboxes_pkey DO UPDATE SET
            channel_type = EXCLUDED.channel_type, source_timezone = EXCLUDED.source_timezone,
            timezone = EXCLUDED.timezone, hours_enabled = EXCLUDED.hours_enabled, week = EXCLUDED.week,
            signature = EXCLUDED.signature, synced_at = EXCLUDED.synced_at
        RETURNING ib.inbox_id
    ), gone AS (
        DELETE FROM analytics.inboxes ib
        WHERE ib.tenant_id = t AND ib.inbox_id NOT IN (SELECT s.inbox_id FROM src s)
        RETURNING ib.inbox_id
    )
    SELECT ARRAY(SELECT up.inbox_id FROM up UNION SELECT gone.inbox_id FROM gone) INTO changed;

    IF cardinality(changed) > 0 THEN
        PERFORM etl.apply_business_hours(p_run_id, changed);
    END IF;

    RETURN QUERY SELECT ib.inbox_id, ib.source_timezone FROM analytics.inboxes ib
                 WHERE ib.tenant_id = t AND ib.timezone IS NULL ORDER BY 1;
END
$$;
CREATE OR REPLACE FUNCTION etl.refresh_inbox_rollups(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog'
    AS $$
DECLARE
    t   bigint := app.current_tenant_id();
    sla integer;
BEGIN
    SELECT ts.sla_seconds INTO sla FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    DELETE FROM analytics.daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.daily_stats (tenant_id, day, inbox_id,
        conversations, leads, visits, conversions, unanswered, unanswered_leads, resolved,
        bot_resolved, handoffs, with_bot, first_reply_count, first_reply_sum, first_reply_lt_1m,
        first_reply_1m_5m, first_reply_5m_15m, first_reply_15m_1h, first_reply_1h_4h,
        first_reply_4h_24h, first_reply_gt_24h, first_human_reply_count, first_human_reply_sum,
        resolution_count, resolution_sum, csat_responses, csat_satisfied, csat_1, csat_2, csat_3,
        csat_4, csat_5,
        first_reply_business_sum, first_reply_business_lt_1m, first_reply_business_1m_5m,
        first_reply_business_5m_15m, first_reply_business_15m_1h, first_reply_business_1h_4h,
        first_reply_business_4h_24h, first_reply_business_gt_24h, first_human_reply_business_sum,
        resolution_business_sum, handoff_requests, human_wait_count, human_wait_sum,
        human_wait_business_sum, sla_within, sla_late)
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
           coalesce(sum(c.first_reply_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.first_reply_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_seconds >= 60 AND c.first_reply_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_seconds >= 300 AND c.first_reply_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_seconds >= 900 AND c.first_reply_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_seconds >= 3600 AND c.first_reply_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 14400 AND c.first_reply_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 86400),
           count(c.first_human_reply_seconds),
           coalesce(sum(c.first_human_reply_seconds::numeric)::float8, 0),
           count(c.resolution_seconds),
           coalesce(sum(c.resolution_seconds::numeric)::float8, 0),
           count(c.csat_rating),
           count(*) FILTER (WHERE c.csat_rating >= 4),
           count(*) FILTER (WHERE c.csat_rating = 1),
           count(*) FILTER (WHERE c.csat_rating = 2),
           count(*) FILTER (WHERE c.csat_rating = 3),
           count(*) FILTER (WHERE c.csat_rating = 4),
           count(*) FILTER (WHERE c.csat_rating = 5),
           coalesce(sum(c.first_reply_business_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.first_reply_business_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 60 AND c.first_reply_business_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 300 AND c.first_reply_business_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 900 AND c.first_reply_business_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 3600 AND c.first_reply_business_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 14400 AND c.first_reply_business_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 86400),
           coalesce(sum(c.first_human_reply_business_seconds::numeric)::float8, 0),
           coalesce(sum(c.resolution_business_seconds::numeric)::float8, 0),
           count(c.handoff_requested_at),
           count(c.human_wait_seconds),
           coalesce(sum(c.human_wait_seconds::numeric)::float8, 0),
           coalesce(sum(c.human_wait_business_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.human_wait_business_seconds <= sla),
           count(*) FILTER (WHERE c.human_wait_business_seconds > sla)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY c.tenant_id, c.created_day, c.inbox_id;

    -- Distributions (metrics: analytics.daily_hist.metric): one grouped pass per metric (cheaper than one pass over four times the
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
        UNION ALL
        SELECT c.created_day, c.inbox_id, 5::smallint, analytics.hist_bucket(c.first_reply_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_reply_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 6::smallint, analytics.hist_bucket(c.first_human_reply_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_human_reply_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 7::smallint, analytics.hist_bucket(c.resolution_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.resolution_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 8::smallint, analytics.hist_bucket(c.human_wait_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.human_wait_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 9::smallint, analytics.hist_bucket(c.human_wait_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.human_wait_business_seconds IS NOT NULL
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
    LEFT JOIN (SELECT k.day, k.metric, string_agg(int4send(k.inbox_id) || int2send(k.bucket) || int4send(k.n), ''::bytea
                                                  ORDER BY k.inbox_id, k.bucket) AS by_inbox
               FROM counted k
               WHERE k.metric IN (1, 5)
               GROUP BY k.day, k.metric) b ON b.metric = s.metric AND b.day = s.day;

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

CREATE OR REPLACE FUNCTION etl.refresh_tenant_rollups(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog'
    AS $$
DECLARE
    t bigint := app.current_tenant_id();
BEGIN
    DELETE FROM analytics.tenant_daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.tenant_daily_stats (tenant_id, day, inbox_id,
        conversations, leads, visits, conversions, unanswered, unanswered_leads, resolved,
        bot_resolved, handoffs, with_bot, first_reply_count, first_reply_sum, first_reply_lt_1m,
        first_reply_1m_5m, first_reply_5m_15m, first_reply_15m_1h, first_reply_1h_4h,
        first_reply_4h_24h, first_reply_gt_24h, first_human_reply_count, first_human_reply_sum,
        resolution_count, resolution_sum, csat_responses, csat_satisfied, csat_1, csat_2, csat_3,
        csat_4, csat_5,
        first_reply_business_sum, first_reply_business_lt_1m, first_reply_business_1m_5m,
        first_reply_business_5m_15m, first_reply_business_15m_1h, first_reply_business_1h_4h,
        first_reply_business_4h_24h, first_reply_business_gt_24h, first_human_reply_business_sum,
        resolution_business_sum, handoff_requests, human_wait_count, human_wait_sum,
        human_wait_business_sum, sla_within, sla_late)
    SELECT t, d.day, 0,
           sum(d.conversations), sum(d.leads), sum(d.visits), sum(d.conversions),
           sum(d.unanswered), sum(d.unanswered_leads), sum(d.resolved), sum(d.bot_resolved),
           sum(d.handoffs), sum(d.with_bot), sum(d.first_reply_count), sum(d.first_reply_sum::numeric)::float8,
           sum(d.first_reply_lt_1m), sum(d.first_reply_1m_5m), sum(d.first_reply_5m_15m),
           sum(d.first_reply_15m_1h), sum(d.first_reply_1h_4h), sum(d.first_reply_4h_24h),
           sum(d.first_reply_gt_24h), sum(d.first_human_reply_count), sum(d.first_human_reply_sum::numeric)::float8,
           sum(d.resolution_count), sum(d.resolution_sum::numeric)::float8, sum(d.csat_responses),
           sum(d.csat_satisfied), sum(d.csat_1), sum(d.csat_2), sum(d.csat_3), sum(d.csat_4),
           sum(d.csat_5),
           sum(d.first_reply_business_sum::numeric)::float8, sum(d.first_reply_business_lt_1m), sum(d.first_reply_business_1m_5m),
           sum(d.first_reply_business_5m_15m), sum(d.first_reply_business_15m_1h), sum(d.first_reply_business_1h_4h),
           sum(d.first_reply_business_4h_24h), sum(d.first_reply_business_gt_24h), sum(d.first_human_reply_business_sum::numeric)::float8,
           sum(d.resolution_business_sum::numeric)::float8, sum(d.handoff_requests), sum(d.human_wait_count), sum(d.human_wait_sum::numeric)::float8,
           sum(d.human_wait_business_sum::numeric)::float8, sum(d.sla_within), sum(d.sla_late)
    FROM analytics.daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days))
    GROUP BY d.day;

    DELETE FROM analytics.tenant_daily_labels d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.tenant_daily_labels (tenant_id, day, inbox_id, label, conversations, leads, conversions)
    SELECT t, d.day, 0, d.label, sum(d.conversations), sum(d.leads), sum(d.conversions)
    FROM analytics.daily_labels d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days))
    GROUP BY d.day, d.label;
END
$$;

CREATE OR REPLACE FUNCTION etl.fire_alerts() RETURNS SETOF uuid
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog'
    AS $$
DECLARE
    t      bigint := app.current_tenant_id();
    s      app.alert_settings;
    synced timestamptz;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.fire_alerts: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO s FROM app.alert_settings a WHERE a.tenant_id = t;
    IF NOT FOUND OR NOT (s.sla_enabled OR s.window_enabled)
       OR (cardinality(s.email_to) = 0 AND s.webhook_url IS NULL) THEN
        RETURN;
    END IF;
    SELECT w.source_checked_at INTO synced FROM etl.watermarks w WHERE w.tenant_id = t;
    IF synced IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH cand AS (
        SELECT c.conversation_id, 'sla'::text AS kind, c.waiting_since, c.inbox_id, c.account_id, c.display_id,
               c.contact_name, c.window_closes_at, coalesce(ib.timezone, tn.timezone) AS tz, ib.week
        FROM analytics.conversations c
        JOIN app.tenants tn ON tn.id = c.tenant_id
        LEFT JOIN analytics.inboxes ib ON ib.tenant_id = c.tenant_id AND ib.inbox_id = c.inbox_id
        WHERE s.sla_enabled AND c.tenant_id = t AND c.waiting_since IS NOT NULL
          AND c.waiting_due_at < synced AND c.waiting_due_at >= synced - interval '24 hours'
          AND analytics.is_open_at(synced, coalesce(ib.timezone, tn.timezone), ib.week)
        UNION ALL
        SELECT c.conversation_id, 'window'::text, c.waiting_since, c.inbox_id, c.account_id, c.display_id,
               c.contact_name, c.window_closes_at, coalesce(ib.timezone, tn.timezone), ib.week
        FROM analytics.conversations c
        JOIN app.tenants tn ON tn.id = c.tenant_id
        LEFT JOIN analytics.inboxes ib ON ib.tenant_id = c.tenant_id AND ib.inbox_id = c.inbox_id
        WHERE s.window_enabled AND c.tenant_id = t AND c.waiting_since IS NOT NULL
          AND c.window_closes_at > synced AND c.window_closes_at <= synced + interval '2 hours'
    ), ins AS (
        INSERT INTO analytics.alerts AS a (tenant_id, conversation_id, kind, episode, synced_at, inbox_id, account_id,
                                           display_id, contact_name, wait_business_seconds, window_closes_at)
        SELECT t, x.conversation_id, x.kind, x.waiting_since, synced, x.inbox_id, x.account_id, x.display_id,
               x.contact_name, coalesce(analytics.business_seconds(x.waiting_since, synced, x.tz, x.week), 0),
               x.window_closes_at
        FROM cand x
        ON CONFLICT ON CONSTRAINT alerts_pkey DO NOTHING
        RETURNING a.event_id
    )
    SELECT ins.event_id FROM ins;
END
$$;

DROP FUNCTION etl.funnel_stage(etl.funnel_rules, text[], text[], integer);
DROP FUNCTION etl.funnel_stage_labels(etl.funnel_rules, text[], integer);
DROP FUNCTION etl.funnel_rules(app.tenant_settings);
DROP TYPE etl.funnel_rules;

UPDATE app.table_placement
   SET placement = 'coordinator', colocate_with = NULL,
       reason = 'UNLOGGED staging filled by COPY and emptied within one ETL transaction, keyed by run.'
 WHERE table_name IN ('etl.stage_ids', 'etl.stage_conversations', 'etl.stage_days');
TRUNCATE etl.stage_ids, etl.stage_conversations, etl.stage_days;
DROP INDEX etl.stage_conversations_chunk_idx;
ALTER TABLE etl.stage_conversations DROP CONSTRAINT stage_conversations_pkey;
ALTER TABLE etl.stage_ids DROP CONSTRAINT stage_ids_pkey;
ALTER TABLE etl.stage_days DROP COLUMN tenant_id;
ALTER TABLE etl.stage_conversations DROP COLUMN tenant_id;
ALTER TABLE etl.stage_ids DROP COLUMN tenant_id;
ALTER TABLE etl.stage_ids ADD PRIMARY KEY (run_id, conversation_id);
ALTER TABLE etl.stage_conversations ADD PRIMARY KEY (run_id, conversation_id);
CREATE INDEX stage_conversations_chunk_idx ON etl.stage_conversations (run_id, chunk);


DROP FUNCTION app.citus_role_logins();
DROP FUNCTION app.citus_placement_plan();
DROP FUNCTION app.unclassified_tables();
DROP FUNCTION app.citus_version();
DROP FUNCTION app.citus_force_rls(regclass, boolean);
REVOKE INSERT (id, started_at, status, extracted, inserted, updated, deleted, messages, unchanged, checks) ON etl.runs FROM geniai_etl;
DROP TABLE app.table_placement;
DROP FUNCTION app.set_context(text, bigint, bigint, text, text, text, text);
REVOKE USAGE ON SCHEMA app FROM geniai_authenticator;
