-- One home per rule (docs/conventions.md, "Where a rule lives" and "Errors and their messages").
--
-- 1. Constraints get names that say their rule. A violated constraint reaches the person through
--    the message keyed err.constraint.<name> in internal/locale, one message per name; a test
--    reads pg_constraint and fails when a constraint of schema app has no message, or a message
--    names no constraint. PostgreSQL's generated names (tenants_check, runs_check1) said nothing.
-- 2. "Staff" is defined once: app.is_staff(role). Every policy that spelled the role list calls
--    it instead; the policies are otherwise today's, unchanged, and plan the same.
-- 3. Whether an account may sign in is decided once: app.sign_in_refusal, used by sign-in
--    (app.login_lookup returns its answer) and by the per-request app.principal_check.
-- 4. The e-mail tables and functions (invitations, password resets, the send queue, digests)
--    follow the same three rules.
-- 5. So do the alerts' tables and functions.

-- 1. Constraint names ---------------------------------------------------------------------------

ALTER TABLE app.tenants RENAME CONSTRAINT tenants_check TO tenants_trial_has_end;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_name_check TO tenants_name_length;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_plan_check TO tenants_plan_known;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_slug_check TO tenants_slug_format;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_slug_key TO tenants_slug_unique;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_status_check TO tenants_status_known;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_timezone_check TO tenants_timezone_known;

ALTER TABLE app.users RENAME CONSTRAINT users_auth_version_check TO users_auth_version_positive;
ALTER TABLE app.users RENAME CONSTRAINT users_email_check TO users_email_format;
ALTER TABLE app.users RENAME CONSTRAINT users_email_key TO users_email_unique;
ALTER TABLE app.users RENAME CONSTRAINT users_failed_attempts_check TO users_failed_attempts_nonnegative;
ALTER TABLE app.users RENAME CONSTRAINT users_full_name_check TO users_full_name_length;
ALTER TABLE app.users RENAME CONSTRAINT users_lockout_count_check TO users_lockout_count_nonnegative;
ALTER TABLE app.users RENAME CONSTRAINT users_password_hash_check TO users_password_hash_bcrypt;
ALTER TABLE app.users RENAME CONSTRAINT users_role_check TO users_role_known;

ALTER TABLE app.tenant_inboxes RENAME CONSTRAINT tenant_inboxes_inbox_id_key TO tenant_inboxes_inbox_unique;

ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_converted_regex_check TO tenant_settings_converted_regex_valid;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_default_period_days_check TO tenant_settings_default_period_known;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_display_name_check TO tenant_settings_display_name_length;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_lead_regex_check TO tenant_settings_lead_regex_valid;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_logo_url_check TO tenant_settings_logo_url_format;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_primary_color_check TO tenant_settings_primary_color_format;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_secondary_color_check TO tenant_settings_secondary_color_format;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_sla_seconds_check TO tenant_settings_sla_seconds_range;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_visit_regex_check TO tenant_settings_visit_regex_valid;

ALTER TABLE app.user_sessions RENAME CONSTRAINT user_sessions_token_hash_key TO user_sessions_token_hash_unique;
ALTER TABLE app.user_sessions RENAME CONSTRAINT user_sessions_user_agent_check TO user_sessions_user_agent_length;

ALTER TABLE app.login_throttle RENAME CONSTRAINT login_throttle_failures_check TO login_throttle_failures_nonnegative;
ALTER TABLE app.login_failures RENAME CONSTRAINT login_failures_email_hash_check TO login_failures_email_hash_length;
ALTER TABLE app.login_failures RENAME CONSTRAINT login_failures_failed_attempts_check TO login_failures_failed_attempts_nonnegative;
ALTER TABLE app.login_failures RENAME CONSTRAINT login_failures_lockout_count_check TO login_failures_lockout_count_nonnegative;

-- Outside app only the loader writes; these had numbered names.
ALTER TABLE analytics.conversations RENAME CONSTRAINT conversations_check TO conversations_visit_is_lead;
ALTER TABLE analytics.conversations RENAME CONSTRAINT conversations_check1 TO conversations_converted_is_visit;
ALTER TABLE analytics.conversations RENAME CONSTRAINT conversations_check2 TO conversations_resolution_when_resolved;
ALTER TABLE analytics.daily_hist RENAME CONSTRAINT daily_hist_check TO daily_hist_buckets_match_counts;
ALTER TABLE analytics.tenant_daily_hist RENAME CONSTRAINT tenant_daily_hist_check TO tenant_daily_hist_buckets_match_counts;
ALTER TABLE etl.runs RENAME CONSTRAINT runs_check TO runs_finished_unless_running;
ALTER TABLE etl.runs RENAME CONSTRAINT runs_check1 TO runs_failed_has_error;

-- 2. Staff --------------------------------------------------------------------------------------

-- A plain SQL expression, IMMUTABLE: the planner inlines it, so a policy reading
-- app.is_staff((SELECT app.current_app_role())) plans exactly as the spelled-out list did
-- (role = ANY ('{super_admin,support}'), same estimates, same plans). NULL for a NULL role.
CREATE FUNCTION app.is_staff(p_role text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT p_role IN ('super_admin', 'support') $$;
COMMENT ON FUNCTION app.is_staff(text) IS 'The one definition of GeniAI staff: the app roles super_admin and support. Policies call it on app.current_app_role().';
GRANT EXECUTE ON FUNCTION app.is_staff(text) TO geniai_tenant, geniai_staff, geniai_etl, geniai_anon;

-- Every policy that spelled the staff roles calls app.is_staff on the same argument, keeping its
-- form (a scalar subquery or a direct call), its name, command and roles. Done by reading
-- pg_policies, so a policy of any migration before this one is covered; the check at the end
-- fails the migration if one is left.
DO $$
DECLARE
    v_pol record;
    v_pat constant text := '\((\( SELECT app\.current_app_role\(\) AS current_app_role\)|app\.current_app_role\(\)) = ANY \(ARRAY\[''super_admin''::text, ''support''::text\]\)\)';
BEGIN
    FOR v_pol IN SELECT schemaname, tablename, policyname, qual, with_check FROM pg_catalog.pg_policies
                 WHERE qual ~ '''support''' OR with_check ~ '''support''' LOOP
        EXECUTE pg_catalog.format('ALTER POLICY %I ON %I.%I', v_pol.policyname, v_pol.schemaname, v_pol.tablename)
            || coalesce(' USING (' || pg_catalog.regexp_replace(v_pol.qual, v_pat, 'app.is_staff(\1)', 'g') || ')', '')
            || coalesce(' WITH CHECK (' || pg_catalog.regexp_replace(v_pol.with_check, v_pat, 'app.is_staff(\1)', 'g') || ')', '');
    END LOOP;
    IF EXISTS (SELECT FROM pg_catalog.pg_policies WHERE qual ~ '''support''' OR with_check ~ '''support''') THEN
        RAISE EXCEPTION 'a policy still spells the staff roles';
    END IF;
END
$$;

-- The audit trail, the role-per-tenant trigger and the staff's watch list of sign-in attacks
-- read the same definition.
CREATE OR REPLACE FUNCTION audit.log(p_action text, p_entity text, p_entity_id text, p_old jsonb, p_new jsonb, p_tenant_id bigint DEFAULT NULL::bigint)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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
    IF NOT coalesce(app.is_staff(role), false)
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

CREATE OR REPLACE FUNCTION app.users_check_role() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    platform boolean;
BEGIN
    SELECT is_platform INTO platform FROM app.tenants WHERE id = NEW.tenant_id;
    IF platform IS NULL THEN
        RETURN NEW; -- the foreign key reports the unknown tenant
    END IF;
    IF platform <> app.is_staff(NEW.role) THEN
        RAISE EXCEPTION 'role % is not allowed in this tenant', NEW.role
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_role_matches_tenant';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION app.login_watch(p_limit integer)
 RETURNS TABLE(user_id bigint, tenant_id bigint, email text, failures integer, networks integer, locked_networks integer, locked_until timestamp with time zone, last_failure_at timestamp with time zone, attacked boolean, network_list text[])
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    WITH w AS (
        SELECT u.id, u.tenant_id, u.email,
               sum(f.failed_attempts + 5 * f.lockout_count)::integer AS failures,
               count(*)::integer AS networks,
               (count(*) FILTER (WHERE f.locked_until > pg_catalog.now()))::integer AS locked_networks,
               max(f.locked_until) FILTER (WHERE f.locked_until > pg_catalog.now()) AS locked_until,
               max(f.last_failure_at) AS last_failure_at,
               pg_catalog.array_agg(f.network::text ORDER BY f.last_failure_at DESC) AS network_list
        FROM app.users u
        JOIN app.login_failures f ON f.email_hash = app.login_email_hash(u.email)
        WHERE f.last_failure_at >= pg_catalog.now() - interval '24 hours'
          AND app.is_staff(app.current_app_role())
        GROUP BY u.id, u.tenant_id, u.email
    )
    SELECT w.id, w.tenant_id, w.email, w.failures, w.networks, w.locked_networks, w.locked_until,
           w.last_failure_at, (w.networks >= 3 OR w.failures >= 20), w.network_list[1:10]
    FROM w
    WHERE w.locked_networks > 0 OR w.networks >= 3 OR w.failures >= 20
    ORDER BY (w.networks >= 3 OR w.failures >= 20) DESC, w.locked_networks DESC, w.last_failure_at DESC
    LIMIT p_limit
$function$;

-- 3. Who may sign in ----------------------------------------------------------------------------

CREATE FUNCTION app.sign_in_refusal(p_is_active boolean, p_tenant_status text, p_trial_ends_at timestamptz)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN NOT p_is_active THEN 'inactive'
        WHEN p_tenant_status = 'active' THEN NULL
        WHEN p_tenant_status = 'trial' AND p_trial_ends_at > pg_catalog.now() THEN NULL
        WHEN p_tenant_status = 'trial' THEN 'trial_ended'
        WHEN p_tenant_status IN ('suspended', 'cancelled') THEN p_tenant_status
        ELSE 'not_active'
    END
$$;
COMMENT ON FUNCTION app.sign_in_refusal(boolean, text, timestamptz) IS 'The one rule of who may sign in and stay signed in: NULL when the user is active and the tenant active or in an unexpired trial (database clock); otherwise why not: inactive, suspended, cancelled, trial_ended, not_active. Used by app.login_lookup, app.principal_check, app.invitation_accept, app.password_reset_request and app.mail_recipient_ok.';
REVOKE ALL ON FUNCTION app.sign_in_refusal(boolean, text, timestamptz) FROM PUBLIC;

-- login_lookup answers the decision instead of the facts it rests on (a new result row type).
DROP FUNCTION app.login_lookup(text, inet);
CREATE FUNCTION app.login_lookup(p_email text, p_ip inet)
    RETURNS TABLE(user_id bigint, tenant_id bigint, role text, password_hash text, locked_seconds integer,
                  refusal text, tenant_slug text, tenant_name text, auth_version integer)
    LANGUAGE sql
    STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT u.id, u.tenant_id, u.role, u.password_hash,
           app.login_retry_seconds(app.login_locked_until(p_email, p_ip)),
           app.sign_in_refusal(u.is_active, t.status, t.trial_ends_at), t.slug, t.name, u.auth_version
    FROM app.users u
    JOIN app.tenants t ON t.id = u.tenant_id
    WHERE u.email = pg_catalog.lower(pg_catalog.btrim(p_email))
$$;
COMMENT ON FUNCTION app.login_lookup(text, inet) IS 'Sign-in: the account behind an e-mail (with its bcrypt hash, its lock on the caller''s network and app.sign_in_refusal, by the database clock), or no row.';
REVOKE ALL ON FUNCTION app.login_lookup(text, inet) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.login_lookup(text, inet) TO geniai_anon;

CREATE OR REPLACE FUNCTION app.principal_check(p_user_id bigint, p_auth_version integer)
    RETURNS TABLE(user_id bigint, tenant_id bigint, email text, full_name text, role text, is_active boolean,
                  auth_version integer, tenant_status text, trial_ends_at timestamptz, tenant_slug text,
                  tenant_name text, is_platform boolean, allowed boolean)
    LANGUAGE sql
    STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT u.id, u.tenant_id, u.email, u.full_name, u.role, u.is_active, u.auth_version,
           t.status, t.trial_ends_at, t.slug, t.name, t.is_platform,
           app.sign_in_refusal(u.is_active, t.status, t.trial_ends_at) IS NULL
           AND u.auth_version = p_auth_version
           AND u.tenant_id = app.current_tenant_id()
    FROM app.users u
    JOIN app.tenants t ON t.id = u.tenant_id
    WHERE u.id = p_user_id
      AND u.id = app.current_user_id()
$$;

-- 4. E-mail: invitations, password resets, the send queue and digests ----------------------------
-- The same three rules for the e-mail tables: constraints named after their rule, staff read
-- through app.is_staff, and the sign-in rule (app.sign_in_refusal) decides who may accept an
-- invitation, ask for a reset link or receive an e-mail. Bodies are otherwise unchanged.

ALTER TABLE app.users RENAME CONSTRAINT users_language_check TO users_language_known;
ALTER TABLE app.users RENAME CONSTRAINT users_timezone_check TO users_timezone_known;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_attempts_check TO mail_outbox_attempts_nonnegative;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_headers_check TO mail_outbox_headers_object;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_kind_check TO mail_outbox_kind_format;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_max_attempts_check TO mail_outbox_max_attempts_range;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_message_id_check TO mail_outbox_message_id_format;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_message_id_key TO mail_outbox_message_id_unique;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_ref_check TO mail_outbox_ref_length;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_status_check TO mail_outbox_status_known;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_subject_check TO mail_outbox_subject_length;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_to_address_check TO mail_outbox_to_address_format;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_to_name_check TO mail_outbox_to_name_length;
ALTER TABLE app.mail_attachments RENAME CONSTRAINT mail_attachments_content_id_check TO mail_attachments_content_id_format;
ALTER TABLE app.mail_attachments RENAME CONSTRAINT mail_attachments_content_type_check TO mail_attachments_content_type_format;
ALTER TABLE app.mail_attachments RENAME CONSTRAINT mail_attachments_filename_check TO mail_attachments_filename_safe;
ALTER TABLE app.mail_attachments RENAME CONSTRAINT mail_attachments_position_check TO mail_attachments_position_nonnegative;
ALTER TABLE app.mail_attempts RENAME CONSTRAINT mail_attempts_attempt_check TO mail_attempts_attempt_positive;
ALTER TABLE app.mail_attempts RENAME CONSTRAINT mail_attempts_outcome_check TO mail_attempts_outcome_known;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_email_check TO invitations_email_format;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_full_name_check TO invitations_full_name_length;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_language_check TO invitations_language_known;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_role_check TO invitations_role_known;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_token_hash_check TO invitations_token_hash_length;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_token_hash_key TO invitations_token_hash_unique;
ALTER TABLE app.password_resets RENAME CONSTRAINT password_resets_token_hash_check TO password_resets_token_hash_length;
ALTER TABLE app.password_resets RENAME CONSTRAINT password_resets_token_hash_key TO password_resets_token_hash_unique;
ALTER TABLE app.password_reset_throttle RENAME CONSTRAINT password_reset_throttle_key_hash_check TO password_reset_throttle_key_hash_length;
ALTER TABLE app.password_reset_throttle RENAME CONSTRAINT password_reset_throttle_requests_check TO password_reset_throttle_requests_nonnegative;
ALTER TABLE app.digest_subscriptions RENAME CONSTRAINT digest_subscriptions_frequency_check TO digest_subscriptions_frequency_known;
ALTER TABLE app.digest_subscriptions RENAME CONSTRAINT digest_subscriptions_hour_check TO digest_subscriptions_hour_range;
ALTER TABLE app.digest_subscriptions RENAME CONSTRAINT digest_subscriptions_unsubscribe_key_check TO digest_subscriptions_unsubscribe_key_format;
ALTER TABLE app.digest_subscriptions RENAME CONSTRAINT digest_subscriptions_weekday_check TO digest_subscriptions_weekday_range;
ALTER TABLE app.digest_subscriptions RENAME CONSTRAINT digest_subscriptions_tenant_id_user_id_frequency_key TO digest_subscriptions_one_per_frequency;
ALTER TABLE app.digest_deliveries RENAME CONSTRAINT digest_deliveries_check TO digest_deliveries_period_ordered;

-- mail_recipient_ok runs as the worker (geniai_staff), not as the owner.
GRANT EXECUTE ON FUNCTION app.sign_in_refusal(boolean, text, timestamptz) TO geniai_staff;

CREATE OR REPLACE FUNCTION app.invitation_create(p_tenant_id bigint, p_email text, p_full_name text, p_role text,
                                      p_language text, p_token_hash bytea, p_subject text, p_text text,
                                      p_html text, p_message_id text)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_email  text := pg_catalog.lower(pg_catalog.btrim(p_email));
    v_other  bigint;
    v_id     bigint;
    v_held   boolean;
BEGIN
    IF NOT app.invitation_caller_may(p_tenant_id, p_role) THEN
        RAISE EXCEPTION 'cannot invite into tenant %', p_tenant_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT u.tenant_id INTO v_other FROM app.users u WHERE u.email = v_email;
    IF FOUND AND v_other = p_tenant_id THEN
        RAISE EXCEPTION 'this tenant already has a user with that e-mail'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'users_email_unique';
    END IF;
    v_held := FOUND;
    IF (SELECT t.is_platform FROM app.tenants t WHERE t.id = p_tenant_id) IS DISTINCT FROM app.is_staff(p_role) THEN
        RAISE EXCEPTION 'role % is not allowed in this tenant', p_role
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_role_matches_tenant';
    END IF;
    UPDATE app.invitations i SET revoked_at = pg_catalog.now()
    WHERE i.tenant_id = p_tenant_id AND i.email = v_email AND i.accepted_at IS NULL AND i.revoked_at IS NULL;
    PERFORM app.mail_cancel_internal(p_tenant_id, 'invitation:' || i.id, 'replaced by a new invitation')
    FROM app.invitations i
    WHERE i.tenant_id = p_tenant_id AND i.email = v_email AND i.revoked_at IS NOT NULL AND i.accepted_at IS NULL;
    INSERT INTO app.invitations (tenant_id, email, full_name, role, language, token_hash, invited_by,
                                 expires_at, held)
    VALUES (p_tenant_id, v_email, pg_catalog.btrim(coalesce(p_full_name, '')), p_role, p_language,
            p_token_hash, app.current_user_id(), pg_catalog.now() + interval '24 hours', v_held)
    RETURNING id INTO v_id;
    IF NOT v_held THEN
        PERFORM app.mail_enqueue_internal(p_tenant_id, 'invitation', 'invitation:' || v_id, NULL, v_email,
                                          p_full_name, p_subject, p_text, p_html, '{}', p_message_id, true,
                                          '{}', '{}', '{}', '{}');
    ELSE
        -- On the platform's trail, which only staff read (audit.log would refuse a tenant caller
        -- writing there, and the tenant's own trail must not tell).
        INSERT INTO audit.events (tenant_id, actor_user_id, actor_role, action, entity, entity_id, new_values, ip, user_agent)
        VALUES ((SELECT t.id FROM app.tenants t WHERE t.is_platform), app.current_user_id(), audit.actor_role(),
                'invitation.held', 'invitation', p_tenant_id || ':' || v_id,
                pg_catalog.jsonb_build_object('email', v_email, 'tenant_id', p_tenant_id, 'account_tenant_id', v_other),
                nullif(pg_catalog.current_setting('geniai.ip', true), '')::inet,
                nullif(pg_catalog.current_setting('geniai.user_agent', true), ''));
    END IF;
    PERFORM audit.log('invitation.create', 'invitation', v_id::text, NULL,
                      pg_catalog.jsonb_build_object('email', v_email, 'role', p_role, 'language', p_language),
                      p_tenant_id);
    RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION app.invitation_accept(p_token_hash bytea, p_password_hash text)
    RETURNS TABLE (user_id bigint, email text)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    v_inv  record;
    v_user bigint;
BEGIN
    SELECT i.* INTO v_inv FROM app.invitations i WHERE i.token_hash = p_token_hash FOR UPDATE;
    IF NOT FOUND OR v_inv.accepted_at IS NOT NULL OR v_inv.revoked_at IS NOT NULL OR v_inv.held
       OR v_inv.expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION 'invitation link invalid, used or expired' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF EXISTS (SELECT FROM app.users u WHERE u.email = v_inv.email) THEN
        RAISE EXCEPTION 'that e-mail already has an account' USING ERRCODE = 'unique_violation', CONSTRAINT = 'users_email_unique';
    END IF;
    IF NOT EXISTS (SELECT FROM app.tenants t WHERE t.id = v_inv.tenant_id
                   AND app.sign_in_refusal(true, t.status, t.trial_ends_at) IS NULL) THEN
        RAISE EXCEPTION 'tenant may not sign in' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    INSERT INTO app.users (tenant_id, email, password_hash, full_name, role, language)
    VALUES (v_inv.tenant_id, v_inv.email, p_password_hash, v_inv.full_name, v_inv.role, v_inv.language)
    RETURNING id INTO v_user;
    UPDATE app.invitations i SET accepted_at = pg_catalog.now(), user_id = v_user
    WHERE i.tenant_id = v_inv.tenant_id AND i.id = v_inv.id;
    -- Other tenants' pending invitations of this address can no longer be accepted: hold them.
    UPDATE app.invitations i SET held = true
    WHERE i.email = v_inv.email AND i.accepted_at IS NULL AND i.revoked_at IS NULL;
    PERFORM audit.log('invitation.accept', 'invitation', v_inv.id::text, NULL,
                      pg_catalog.jsonb_build_object('email', v_inv.email, 'user_id', v_user), v_inv.tenant_id);
    RETURN QUERY SELECT v_user, v_inv.email;
END
$$;

CREATE OR REPLACE FUNCTION app.password_reset_request(p_email text, p_ip inet, p_token_hash bytea)
    RETURNS TABLE (outcome text, retry_seconds integer, user_id bigint, email text, full_name text,
                   language text, tenant_name text, primary_color text, secondary_color text, logo_url text)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    v_now     timestamptz := pg_catalog.now();
    v_email   text := pg_catalog.left(pg_catalog.lower(pg_catalog.btrim(p_email)), 254);
    v_keyip   bytea := pg_catalog.sha256(pg_catalog.convert_to('ip:' || coalesce(pg_catalog.host(p_ip), ''), 'UTF8'));
    v_keymail bytea := pg_catalog.sha256(pg_catalog.convert_to('email:' || pg_catalog.left(pg_catalog.lower(pg_catalog.btrim(p_email)), 254), 'UTF8'));
    v_ipn     integer;
    v_ipstart timestamptz;
    v_mailn   integer;
    v_u       record;
    v_found   boolean;
    v_platform bigint;
BEGIN
    SELECT t.id INTO v_platform FROM app.tenants t WHERE t.is_platform;
    DELETE FROM app.password_reset_throttle
    WHERE key_hash IN (SELECT r.key_hash FROM app.password_reset_throttle r
                       WHERE r.window_start < v_now - interval '1 hour'
                       ORDER BY r.window_start LIMIT 1000 FOR UPDATE SKIP LOCKED);
    IF p_ip IS NOT NULL THEN
        INSERT INTO app.password_reset_throttle AS r (key_hash, window_start, requests)
        VALUES (v_keyip, v_now, 1)
        ON CONFLICT (key_hash) DO UPDATE
        SET window_start = CASE WHEN r.window_start + interval '1 hour' <= v_now THEN v_now ELSE r.window_start END,
            requests = CASE WHEN r.window_start + interval '1 hour' <= v_now THEN 1 ELSE r.requests + 1 END
        RETURNING r.requests, r.window_start INTO v_ipn, v_ipstart;
        IF v_ipn > 20 THEN
            PERFORM audit.log('password_reset.throttled', 'ip', pg_catalog.host(p_ip), NULL,
                              pg_catalog.jsonb_build_object('email', v_email, 'by', 'ip'), v_platform);
            RETURN QUERY SELECT 'ip_throttled'::text, app.login_retry_seconds(v_ipstart + interval '1 hour'),
                                NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
    END IF;
    INSERT INTO app.password_reset_throttle AS r (key_hash, window_start, requests)
    VALUES (v_keymail, v_now, 1)
    ON CONFLICT (key_hash) DO UPDATE
    SET window_start = CASE WHEN r.window_start + interval '1 hour' <= v_now THEN v_now ELSE r.window_start END,
        requests = CASE WHEN r.window_start + interval '1 hour' <= v_now THEN 1 ELSE r.requests + 1 END
    RETURNING r.requests INTO v_mailn;

    SELECT u.id, u.tenant_id, u.email, u.full_name, u.language, u.auth_version,
           coalesce(nullif(s.display_name, ''), t.name) AS tenant_name, s.primary_color, s.secondary_color, s.logo_url
    INTO v_u
    FROM app.users u
    JOIN app.tenants t ON t.id = u.tenant_id
    LEFT JOIN app.tenant_settings s ON s.tenant_id = u.tenant_id
    WHERE u.email = v_email AND app.sign_in_refusal(u.is_active, t.status, t.trial_ends_at) IS NULL;
    v_found := FOUND;
    IF NOT v_found OR v_mailn > 3 THEN
        IF v_found THEN
            PERFORM audit.log('password_reset.request', 'user', v_u.id::text, NULL,
                              pg_catalog.jsonb_build_object('email', v_email, 'outcome', 'throttled'), v_u.tenant_id);
        ELSE
            PERFORM audit.log('password_reset.request', 'user', NULL, NULL,
                              pg_catalog.jsonb_build_object('email', v_email,
                                                            'outcome', CASE WHEN v_mailn > 3 THEN 'throttled' ELSE 'no_account' END),
                              v_platform);
        END IF;
        RETURN QUERY SELECT 'none'::text, 0, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    INSERT INTO app.password_resets (tenant_id, user_id, token_hash, auth_version, expires_at, requested_ip)
    VALUES (v_u.tenant_id, v_u.id, p_token_hash, v_u.auth_version, v_now + interval '1 hour', p_ip);
    PERFORM audit.log('password_reset.request', 'user', v_u.id::text, NULL,
                      pg_catalog.jsonb_build_object('email', v_email, 'outcome', 'link'), v_u.tenant_id);
    RETURN QUERY SELECT 'ok'::text, 0, v_u.id, v_u.email, v_u.full_name, v_u.language, v_u.tenant_name,
                        v_u.primary_color, v_u.secondary_color, v_u.logo_url;
END
$$;

CREATE OR REPLACE FUNCTION app.mail_recipient_ok(p_user_id bigint)
    RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT p_user_id IS NULL OR EXISTS (
        SELECT FROM app.users u JOIN app.tenants t ON t.id = u.tenant_id
        WHERE u.id = p_user_id AND app.sign_in_refusal(u.is_active, t.status, t.trial_ends_at) IS NULL)
$$;

-- 5. Alerts: the same rules for their settings, deliveries and attempts.

ALTER TABLE app.alert_attempts RENAME CONSTRAINT alert_attempts_attempt_check TO alert_attempts_attempt_positive;
ALTER TABLE app.alert_settings RENAME CONSTRAINT alert_settings_email_to_check TO alert_settings_emails_valid;
ALTER TABLE app.alert_settings RENAME CONSTRAINT alert_settings_webhook_url_check TO alert_settings_webhook_url_format;
ALTER TABLE app.alert_settings RENAME CONSTRAINT alert_settings_webhook_secret_check TO alert_settings_webhook_secret_format;
ALTER TABLE app.alert_deliveries RENAME CONSTRAINT alert_deliveries_channel_check TO alert_deliveries_channel_known;
ALTER TABLE app.alert_deliveries RENAME CONSTRAINT alert_deliveries_status_check TO alert_deliveries_status_known;
ALTER TABLE app.alert_deliveries RENAME CONSTRAINT alert_deliveries_attempts_check TO alert_deliveries_attempts_nonnegative;
ALTER TABLE app.alert_deliveries RENAME CONSTRAINT alert_deliveries_max_attempts_check TO alert_deliveries_max_attempts_range;

CREATE OR REPLACE FUNCTION app.alert_mail_info(p_tenant_id bigint, p_mail_id bigint)
    RETURNS TABLE (status text, attempts integer, last_error text)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE m.status WHEN 'sent' THEN 'delivered' WHEN 'failed' THEN 'failed' WHEN 'cancelled' THEN 'failed'
                ELSE m.status END,
           m.attempts, m.last_error
    FROM app.mail_outbox m
    WHERE m.tenant_id = p_tenant_id AND m.id = p_mail_id
      AND ((app.current_tenant_id() = p_tenant_id AND app.current_app_role() = 'admin')
           OR app.is_staff(app.current_app_role()))
$$;

---- create above / drop below ----

-- 5. Alerts.

CREATE OR REPLACE FUNCTION app.alert_mail_info(p_tenant_id bigint, p_mail_id bigint)
    RETURNS TABLE (status text, attempts integer, last_error text)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE m.status WHEN 'sent' THEN 'delivered' WHEN 'failed' THEN 'failed' WHEN 'cancelled' THEN 'failed'
                ELSE m.status END,
           m.attempts, m.last_error
    FROM app.mail_outbox m
    WHERE m.tenant_id = p_tenant_id AND m.id = p_mail_id
      AND ((app.current_tenant_id() = p_tenant_id AND app.current_app_role() = 'admin')
           OR app.current_app_role() IN ('super_admin', 'support'))
$$;

ALTER TABLE app.alert_deliveries RENAME CONSTRAINT alert_deliveries_max_attempts_range TO alert_deliveries_max_attempts_check;
ALTER TABLE app.alert_deliveries RENAME CONSTRAINT alert_deliveries_attempts_nonnegative TO alert_deliveries_attempts_check;
ALTER TABLE app.alert_deliveries RENAME CONSTRAINT alert_deliveries_status_known TO alert_deliveries_status_check;
ALTER TABLE app.alert_deliveries RENAME CONSTRAINT alert_deliveries_channel_known TO alert_deliveries_channel_check;
ALTER TABLE app.alert_settings RENAME CONSTRAINT alert_settings_webhook_secret_format TO alert_settings_webhook_secret_check;
ALTER TABLE app.alert_settings RENAME CONSTRAINT alert_settings_webhook_url_format TO alert_settings_webhook_url_check;
ALTER TABLE app.alert_settings RENAME CONSTRAINT alert_settings_emails_valid TO alert_settings_email_to_check;
ALTER TABLE app.alert_attempts RENAME CONSTRAINT alert_attempts_attempt_positive TO alert_attempts_attempt_check;

-- 4. E-mail (undone first: its policies call app.is_staff, dropped below).

CREATE OR REPLACE FUNCTION app.mail_recipient_ok(p_user_id bigint)
    RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT p_user_id IS NULL OR EXISTS (
        SELECT FROM app.users u JOIN app.tenants t ON t.id = u.tenant_id
        WHERE u.id = p_user_id AND u.is_active
          AND (t.status = 'active' OR (t.status = 'trial' AND t.trial_ends_at > pg_catalog.now())))
$$;

CREATE OR REPLACE FUNCTION app.password_reset_request(p_email text, p_ip inet, p_token_hash bytea)
    RETURNS TABLE (outcome text, retry_seconds integer, user_id bigint, email text, full_name text,
                   language text, tenant_name text, primary_color text, secondary_color text, logo_url text)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    v_now     timestamptz := pg_catalog.now();
    v_email   text := pg_catalog.left(pg_catalog.lower(pg_catalog.btrim(p_email)), 254);
    v_keyip   bytea := pg_catalog.sha256(pg_catalog.convert_to('ip:' || coalesce(pg_catalog.host(p_ip), ''), 'UTF8'));
    v_keymail bytea := pg_catalog.sha256(pg_catalog.convert_to('email:' || pg_catalog.left(pg_catalog.lower(pg_catalog.btrim(p_email)), 254), 'UTF8'));
    v_ipn     integer;
    v_ipstart timestamptz;
    v_mailn   integer;
    v_u       record;
    v_found   boolean;
    v_platform bigint;
BEGIN
    SELECT t.id INTO v_platform FROM app.tenants t WHERE t.is_platform;
    DELETE FROM app.password_reset_throttle
    WHERE key_hash IN (SELECT r.key_hash FROM app.password_reset_throttle r
                       WHERE r.window_start < v_now - interval '1 hour'
                       ORDER BY r.window_start LIMIT 1000 FOR UPDATE SKIP LOCKED);
    IF p_ip IS NOT NULL THEN
        INSERT INTO app.password_reset_throttle AS r (key_hash, window_start, requests)
        VALUES (v_keyip, v_now, 1)
        ON CONFLICT (key_hash) DO UPDATE
        SET window_start = CASE WHEN r.window_start + interval '1 hour' <= v_now THEN v_now ELSE r.window_start END,
            requests = CASE WHEN r.window_start + interval '1 hour' <= v_now THEN 1 ELSE r.requests + 1 END
        RETURNING r.requests, r.window_start INTO v_ipn, v_ipstart;
        IF v_ipn > 20 THEN
            PERFORM audit.log('password_reset.throttled', 'ip', pg_catalog.host(p_ip), NULL,
                              pg_catalog.jsonb_build_object('email', v_email, 'by', 'ip'), v_platform);
            RETURN QUERY SELECT 'ip_throttled'::text, app.login_retry_seconds(v_ipstart + interval '1 hour'),
                                NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
    END IF;
    INSERT INTO app.password_reset_throttle AS r (key_hash, window_start, requests)
    VALUES (v_keymail, v_now, 1)
    ON CONFLICT (key_hash) DO UPDATE
    SET window_start = CASE WHEN r.window_start + interval '1 hour' <= v_now THEN v_now ELSE r.window_start END,
        requests = CASE WHEN r.window_start + interval '1 hour' <= v_now THEN 1 ELSE r.requests + 1 END
    RETURNING r.requests INTO v_mailn;

    SELECT u.id, u.tenant_id, u.email, u.full_name, u.language, u.auth_version,
           coalesce(nullif(s.display_name, ''), t.name) AS tenant_name, s.primary_color, s.secondary_color, s.logo_url
    INTO v_u
    FROM app.users u
    JOIN app.tenants t ON t.id = u.tenant_id
    LEFT JOIN app.tenant_settings s ON s.tenant_id = u.tenant_id
    WHERE u.email = v_email AND u.is_active
      AND (t.status = 'active' OR (t.status = 'trial' AND t.trial_ends_at > v_now));
    v_found := FOUND;
    IF NOT v_found OR v_mailn > 3 THEN
        IF v_found THEN
            PERFORM audit.log('password_reset.request', 'user', v_u.id::text, NULL,
                              pg_catalog.jsonb_build_object('email', v_email, 'outcome', 'throttled'), v_u.tenant_id);
        ELSE
            PERFORM audit.log('password_reset.request', 'user', NULL, NULL,
                              pg_catalog.jsonb_build_object('email', v_email,
                                                            'outcome', CASE WHEN v_mailn > 3 THEN 'throttled' ELSE 'no_account' END),
                              v_platform);
        END IF;
        RETURN QUERY SELECT 'none'::text, 0, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    INSERT INTO app.password_resets (tenant_id, user_id, token_hash, auth_version, expires_at, requested_ip)
    VALUES (v_u.tenant_id, v_u.id, p_token_hash, v_u.auth_version, v_now + interval '1 hour', p_ip);
    PERFORM audit.log('password_reset.request', 'user', v_u.id::text, NULL,
                      pg_catalog.jsonb_build_object('email', v_email, 'outcome', 'link'), v_u.tenant_id);
    RETURN QUERY SELECT 'ok'::text, 0, v_u.id, v_u.email, v_u.full_name, v_u.language, v_u.tenant_name,
                        v_u.primary_color, v_u.secondary_color, v_u.logo_url;
END
$$;

CREATE OR REPLACE FUNCTION app.invitation_accept(p_token_hash bytea, p_password_hash text)
    RETURNS TABLE (user_id bigint, email text)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    v_inv  record;
    v_user bigint;
BEGIN
    SELECT i.* INTO v_inv FROM app.invitations i WHERE i.token_hash = p_token_hash FOR UPDATE;
    IF NOT FOUND OR v_inv.accepted_at IS NOT NULL OR v_inv.revoked_at IS NOT NULL OR v_inv.held
       OR v_inv.expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION 'invitation link invalid, used or expired' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF EXISTS (SELECT FROM app.users u WHERE u.email = v_inv.email) THEN
        RAISE EXCEPTION 'that e-mail already has an account' USING ERRCODE = 'unique_violation', CONSTRAINT = 'users_email_key';
    END IF;
    IF NOT EXISTS (SELECT FROM app.tenants t WHERE t.id = v_inv.tenant_id
                   AND (t.status = 'active' OR (t.status = 'trial' AND t.trial_ends_at > pg_catalog.now()))) THEN
        RAISE EXCEPTION 'tenant may not sign in' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    INSERT INTO app.users (tenant_id, email, password_hash, full_name, role, language)
    VALUES (v_inv.tenant_id, v_inv.email, p_password_hash, v_inv.full_name, v_inv.role, v_inv.language)
    RETURNING id INTO v_user;
    UPDATE app.invitations i SET accepted_at = pg_catalog.now(), user_id = v_user
    WHERE i.tenant_id = v_inv.tenant_id AND i.id = v_inv.id;
    -- Other tenants' pending invitations of this address can no longer be accepted: hold them.
    UPDATE app.invitations i SET held = true
    WHERE i.email = v_inv.email AND i.accepted_at IS NULL AND i.revoked_at IS NULL;
    PERFORM audit.log('invitation.accept', 'invitation', v_inv.id::text, NULL,
                      pg_catalog.jsonb_build_object('email', v_inv.email, 'user_id', v_user), v_inv.tenant_id);
    RETURN QUERY SELECT v_user, v_inv.email;
END
$$;

CREATE OR REPLACE FUNCTION app.invitation_create(p_tenant_id bigint, p_email text, p_full_name text, p_role text,
                                      p_language text, p_token_hash bytea, p_subject text, p_text text,
                                      p_html text, p_message_id text)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_email  text := pg_catalog.lower(pg_catalog.btrim(p_email));
    v_other  bigint;
    v_id     bigint;
    v_held   boolean;
BEGIN
    IF NOT app.invitation_caller_may(p_tenant_id, p_role) THEN
        RAISE EXCEPTION 'cannot invite into tenant %', p_tenant_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT u.tenant_id INTO v_other FROM app.users u WHERE u.email = v_email;
    IF FOUND AND v_other = p_tenant_id THEN
        RAISE EXCEPTION 'this tenant already has a user with that e-mail'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'users_email_key';
    END IF;
    v_held := FOUND;
    IF (SELECT t.is_platform FROM app.tenants t WHERE t.id = p_tenant_id) IS DISTINCT FROM (p_role IN ('super_admin', 'support')) THEN
        RAISE EXCEPTION 'role % is not allowed in this tenant', p_role
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_role_matches_tenant';
    END IF;
    UPDATE app.invitations i SET revoked_at = pg_catalog.now()
    WHERE i.tenant_id = p_tenant_id AND i.email = v_email AND i.accepted_at IS NULL AND i.revoked_at IS NULL;
    PERFORM app.mail_cancel_internal(p_tenant_id, 'invitation:' || i.id, 'replaced by a new invitation')
    FROM app.invitations i
    WHERE i.tenant_id = p_tenant_id AND i.email = v_email AND i.revoked_at IS NOT NULL AND i.accepted_at IS NULL;
    INSERT INTO app.invitations (tenant_id, email, full_name, role, language, token_hash, invited_by,
                                 expires_at, held)
    VALUES (p_tenant_id, v_email, pg_catalog.btrim(coalesce(p_full_name, '')), p_role, p_language,
            p_token_hash, app.current_user_id(), pg_catalog.now() + interval '24 hours', v_held)
    RETURNING id INTO v_id;
    IF NOT v_held THEN
        PERFORM app.mail_enqueue_internal(p_tenant_id, 'invitation', 'invitation:' || v_id, NULL, v_email,
                                          p_full_name, p_subject, p_text, p_html, '{}', p_message_id, true,
                                          '{}', '{}', '{}', '{}');
    ELSE
        -- On the platform's trail, which only staff read (audit.log would refuse a tenant caller
        -- writing there, and the tenant's own trail must not tell).
        INSERT INTO audit.events (tenant_id, actor_user_id, actor_role, action, entity, entity_id, new_values, ip, user_agent)
        VALUES ((SELECT t.id FROM app.tenants t WHERE t.is_platform), app.current_user_id(), audit.actor_role(),
                'invitation.held', 'invitation', p_tenant_id || ':' || v_id,
                pg_catalog.jsonb_build_object('email', v_email, 'tenant_id', p_tenant_id, 'account_tenant_id', v_other),
                nullif(pg_catalog.current_setting('geniai.ip', true), '')::inet,
                nullif(pg_catalog.current_setting('geniai.user_agent', true), ''));
    END IF;
    PERFORM audit.log('invitation.create', 'invitation', v_id::text, NULL,
                      pg_catalog.jsonb_build_object('email', v_email, 'role', p_role, 'language', p_language),
                      p_tenant_id);
    RETURN v_id;
END
$$;

REVOKE EXECUTE ON FUNCTION app.sign_in_refusal(boolean, text, timestamptz) FROM geniai_staff;

ALTER TABLE app.digest_deliveries RENAME CONSTRAINT digest_deliveries_period_ordered TO digest_deliveries_check;
ALTER TABLE app.digest_subscriptions RENAME CONSTRAINT digest_subscriptions_one_per_frequency TO digest_subscriptions_tenant_id_user_id_frequency_key;
ALTER TABLE app.digest_subscriptions RENAME CONSTRAINT digest_subscriptions_weekday_range TO digest_subscriptions_weekday_check;
ALTER TABLE app.digest_subscriptions RENAME CONSTRAINT digest_subscriptions_unsubscribe_key_format TO digest_subscriptions_unsubscribe_key_check;
ALTER TABLE app.digest_subscriptions RENAME CONSTRAINT digest_subscriptions_hour_range TO digest_subscriptions_hour_check;
ALTER TABLE app.digest_subscriptions RENAME CONSTRAINT digest_subscriptions_frequency_known TO digest_subscriptions_frequency_check;
ALTER TABLE app.password_reset_throttle RENAME CONSTRAINT password_reset_throttle_requests_nonnegative TO password_reset_throttle_requests_check;
ALTER TABLE app.password_reset_throttle RENAME CONSTRAINT password_reset_throttle_key_hash_length TO password_reset_throttle_key_hash_check;
ALTER TABLE app.password_resets RENAME CONSTRAINT password_resets_token_hash_unique TO password_resets_token_hash_key;
ALTER TABLE app.password_resets RENAME CONSTRAINT password_resets_token_hash_length TO password_resets_token_hash_check;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_token_hash_unique TO invitations_token_hash_key;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_token_hash_length TO invitations_token_hash_check;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_role_known TO invitations_role_check;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_language_known TO invitations_language_check;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_full_name_length TO invitations_full_name_check;
ALTER TABLE app.invitations RENAME CONSTRAINT invitations_email_format TO invitations_email_check;
ALTER TABLE app.mail_attempts RENAME CONSTRAINT mail_attempts_outcome_known TO mail_attempts_outcome_check;
ALTER TABLE app.mail_attempts RENAME CONSTRAINT mail_attempts_attempt_positive TO mail_attempts_attempt_check;
ALTER TABLE app.mail_attachments RENAME CONSTRAINT mail_attachments_position_nonnegative TO mail_attachments_position_check;
ALTER TABLE app.mail_attachments RENAME CONSTRAINT mail_attachments_filename_safe TO mail_attachments_filename_check;
ALTER TABLE app.mail_attachments RENAME CONSTRAINT mail_attachments_content_type_format TO mail_attachments_content_type_check;
ALTER TABLE app.mail_attachments RENAME CONSTRAINT mail_attachments_content_id_format TO mail_attachments_content_id_check;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_to_name_length TO mail_outbox_to_name_check;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_to_address_format TO mail_outbox_to_address_check;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_subject_length TO mail_outbox_subject_check;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_status_known TO mail_outbox_status_check;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_ref_length TO mail_outbox_ref_check;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_message_id_unique TO mail_outbox_message_id_key;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_message_id_format TO mail_outbox_message_id_check;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_max_attempts_range TO mail_outbox_max_attempts_check;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_kind_format TO mail_outbox_kind_check;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_headers_object TO mail_outbox_headers_check;
ALTER TABLE app.mail_outbox RENAME CONSTRAINT mail_outbox_attempts_nonnegative TO mail_outbox_attempts_check;
ALTER TABLE app.users RENAME CONSTRAINT users_timezone_known TO users_timezone_check;
ALTER TABLE app.users RENAME CONSTRAINT users_language_known TO users_language_check;

CREATE OR REPLACE FUNCTION app.principal_check(p_user_id bigint, p_auth_version integer)
    RETURNS TABLE(user_id bigint, tenant_id bigint, email text, full_name text, role text, is_active boolean,
                  auth_version integer, tenant_status text, trial_ends_at timestamptz, tenant_slug text,
                  tenant_name text, is_platform boolean, allowed boolean)
    LANGUAGE sql
    STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT u.id, u.tenant_id, u.email, u.full_name, u.role, u.is_active, u.auth_version,
           t.status, t.trial_ends_at, t.slug, t.name, t.is_platform,
           u.is_active
           AND u.auth_version = p_auth_version
           AND u.tenant_id = app.current_tenant_id()
           AND (t.status = 'active'
                OR (t.status = 'trial' AND t.trial_ends_at > pg_catalog.now()))
    FROM app.users u
    JOIN app.tenants t ON t.id = u.tenant_id
    WHERE u.id = p_user_id
      AND u.id = app.current_user_id()
$$;

DROP FUNCTION app.login_lookup(text, inet);
CREATE FUNCTION app.login_lookup(p_email text, p_ip inet)
    RETURNS TABLE(user_id bigint, tenant_id bigint, role text, password_hash text, is_active boolean,
                  locked_seconds integer, tenant_status text, trial_ends_at timestamptz, tenant_slug text,
                  tenant_name text, auth_version integer, checked_at timestamptz)
    LANGUAGE sql
    STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT u.id, u.tenant_id, u.role, u.password_hash, u.is_active,
           app.login_retry_seconds(app.login_locked_until(p_email, p_ip)),
           t.status, t.trial_ends_at, t.slug, t.name, u.auth_version, pg_catalog.now()
    FROM app.users u
    JOIN app.tenants t ON t.id = u.tenant_id
    WHERE u.email = pg_catalog.lower(pg_catalog.btrim(p_email))
$$;
COMMENT ON FUNCTION app.login_lookup(text, inet) IS 'Sign-in: the account behind an e-mail (with its bcrypt hash, its lock on the caller''s network and tenant status by the database clock), or no row.';
REVOKE ALL ON FUNCTION app.login_lookup(text, inet) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.login_lookup(text, inet) TO geniai_anon;

DROP FUNCTION app.sign_in_refusal(boolean, text, timestamptz);

CREATE OR REPLACE FUNCTION app.users_check_role() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

CREATE OR REPLACE FUNCTION audit.log(p_action text, p_entity text, p_entity_id text, p_old jsonb, p_new jsonb, p_tenant_id bigint DEFAULT NULL::bigint)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

CREATE OR REPLACE FUNCTION app.login_watch(p_limit integer)
 RETURNS TABLE(user_id bigint, tenant_id bigint, email text, failures integer, networks integer, locked_networks integer, locked_until timestamp with time zone, last_failure_at timestamp with time zone, attacked boolean, network_list text[])
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    WITH w AS (
        SELECT u.id, u.tenant_id, u.email,
               sum(f.failed_attempts + 5 * f.lockout_count)::integer AS failures,
               count(*)::integer AS networks,
               (count(*) FILTER (WHERE f.locked_until > pg_catalog.now()))::integer AS locked_networks,
               max(f.locked_until) FILTER (WHERE f.locked_until > pg_catalog.now()) AS locked_until,
               max(f.last_failure_at) AS last_failure_at,
               pg_catalog.array_agg(f.network::text ORDER BY f.last_failure_at DESC) AS network_list
        FROM app.users u
        JOIN app.login_failures f ON f.email_hash = app.login_email_hash(u.email)
        WHERE f.last_failure_at >= pg_catalog.now() - interval '24 hours'
          AND app.current_app_role() IN ('super_admin', 'support')
        GROUP BY u.id, u.tenant_id, u.email
    )
    SELECT w.id, w.tenant_id, w.email, w.failures, w.networks, w.locked_networks, w.locked_until,
           w.last_failure_at, (w.networks >= 3 OR w.failures >= 20), w.network_list[1:10]
    FROM w
    WHERE w.locked_networks > 0 OR w.networks >= 3 OR w.failures >= 20
    ORDER BY (w.networks >= 3 OR w.failures >= 20) DESC, w.locked_networks DESC, w.last_failure_at DESC
    LIMIT p_limit
$function$;

-- Policies spell the staff roles again (before app.is_staff is dropped).
DO $$
DECLARE
    v_pol record;
    v_pat constant text := 'app\.is_staff\((\( SELECT app\.current_app_role\(\) AS current_app_role\)|app\.current_app_role\(\))\)';
    v_rep constant text := '(\1 = ANY (ARRAY[''super_admin''::text, ''support''::text]))';
BEGIN
    FOR v_pol IN SELECT schemaname, tablename, policyname, qual, with_check FROM pg_catalog.pg_policies
                 WHERE qual ~ 'is_staff' OR with_check ~ 'is_staff' LOOP
        EXECUTE pg_catalog.format('ALTER POLICY %I ON %I.%I', v_pol.policyname, v_pol.schemaname, v_pol.tablename)
            || coalesce(' USING (' || pg_catalog.regexp_replace(v_pol.qual, v_pat, v_rep, 'g') || ')', '')
            || coalesce(' WITH CHECK (' || pg_catalog.regexp_replace(v_pol.with_check, v_pat, v_rep, 'g') || ')', '');
    END LOOP;
END
$$;

DROP FUNCTION app.is_staff(text);

ALTER TABLE etl.runs RENAME CONSTRAINT runs_failed_has_error TO runs_check1;
ALTER TABLE etl.runs RENAME CONSTRAINT runs_finished_unless_running TO runs_check;
ALTER TABLE analytics.tenant_daily_hist RENAME CONSTRAINT tenant_daily_hist_buckets_match_counts TO tenant_daily_hist_check;
ALTER TABLE analytics.daily_hist RENAME CONSTRAINT daily_hist_buckets_match_counts TO daily_hist_check;
ALTER TABLE analytics.conversations RENAME CONSTRAINT conversations_resolution_when_resolved TO conversations_check2;
ALTER TABLE analytics.conversations RENAME CONSTRAINT conversations_converted_is_visit TO conversations_check1;
ALTER TABLE analytics.conversations RENAME CONSTRAINT conversations_visit_is_lead TO conversations_check;

ALTER TABLE app.login_failures RENAME CONSTRAINT login_failures_lockout_count_nonnegative TO login_failures_lockout_count_check;
ALTER TABLE app.login_failures RENAME CONSTRAINT login_failures_failed_attempts_nonnegative TO login_failures_failed_attempts_check;
ALTER TABLE app.login_failures RENAME CONSTRAINT login_failures_email_hash_length TO login_failures_email_hash_check;
ALTER TABLE app.login_throttle RENAME CONSTRAINT login_throttle_failures_nonnegative TO login_throttle_failures_check;

ALTER TABLE app.user_sessions RENAME CONSTRAINT user_sessions_user_agent_length TO user_sessions_user_agent_check;
ALTER TABLE app.user_sessions RENAME CONSTRAINT user_sessions_token_hash_unique TO user_sessions_token_hash_key;

ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_visit_regex_valid TO tenant_settings_visit_regex_check;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_sla_seconds_range TO tenant_settings_sla_seconds_check;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_secondary_color_format TO tenant_settings_secondary_color_check;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_primary_color_format TO tenant_settings_primary_color_check;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_logo_url_format TO tenant_settings_logo_url_check;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_lead_regex_valid TO tenant_settings_lead_regex_check;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_display_name_length TO tenant_settings_display_name_check;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_default_period_known TO tenant_settings_default_period_days_check;
ALTER TABLE app.tenant_settings RENAME CONSTRAINT tenant_settings_converted_regex_valid TO tenant_settings_converted_regex_check;

ALTER TABLE app.tenant_inboxes RENAME CONSTRAINT tenant_inboxes_inbox_unique TO tenant_inboxes_inbox_id_key;

ALTER TABLE app.users RENAME CONSTRAINT users_role_known TO users_role_check;
ALTER TABLE app.users RENAME CONSTRAINT users_password_hash_bcrypt TO users_password_hash_check;
ALTER TABLE app.users RENAME CONSTRAINT users_lockout_count_nonnegative TO users_lockout_count_check;
ALTER TABLE app.users RENAME CONSTRAINT users_full_name_length TO users_full_name_check;
ALTER TABLE app.users RENAME CONSTRAINT users_failed_attempts_nonnegative TO users_failed_attempts_check;
ALTER TABLE app.users RENAME CONSTRAINT users_email_unique TO users_email_key;
ALTER TABLE app.users RENAME CONSTRAINT users_email_format TO users_email_check;
ALTER TABLE app.users RENAME CONSTRAINT users_auth_version_positive TO users_auth_version_check;

ALTER TABLE app.tenants RENAME CONSTRAINT tenants_timezone_known TO tenants_timezone_check;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_status_known TO tenants_status_check;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_slug_unique TO tenants_slug_key;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_slug_format TO tenants_slug_check;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_plan_known TO tenants_plan_check;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_name_length TO tenants_name_check;
ALTER TABLE app.tenants RENAME CONSTRAINT tenants_trial_has_end TO tenants_check;
