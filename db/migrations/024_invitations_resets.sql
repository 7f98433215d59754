-- Invitations (a new user sets their own password from a link) and password resets ("Esqueci
-- minha senha"). Tokens are random, single-use, stored as their SHA-256 only, and expire
-- (invitations 24 hours, resets 1 hour); a reset also dies with any later password change (it
-- carries the user's auth_version). Both are audited.
--
-- An invitation does not claim its address: the account is created only when the link is used.
-- So a tenant admin learns nothing about addresses of other tenants — creating a user answers the
-- same whether or not the address has an account elsewhere; the invitation to such an address is
-- simply held (never sent), which only staff can see — and nobody can squat an address by
-- inviting it first.

CREATE TABLE app.invitations (
    tenant_id   bigint      NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    email       text        NOT NULL
                CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
    full_name   text        NOT NULL DEFAULT '' CHECK (length(full_name) <= 120),
    role        text        NOT NULL CHECK (role IN ('client', 'admin', 'super_admin', 'support')),
    language    text        NOT NULL DEFAULT 'pt-BR' CHECK (language IN ('pt-BR', 'en')),
    token_hash  bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    invited_by  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    user_id     bigint,
    revoked_at  timestamptz,
    held        boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE app.invitations IS 'Pending and past invitations. The account is created when the link is used (app.invitation_accept), so an invitation never claims its address.';
COMMENT ON COLUMN app.invitations.token_hash IS 'sha256 of the link''s token; the token itself is never stored.';
COMMENT ON COLUMN app.invitations.invited_by IS 'app.users.id of who invited; NULL for the CLI.';
COMMENT ON COLUMN app.invitations.held IS 'The address had an account (in any tenant) when the invitation was made, so no e-mail went out. Staff only: tenant roles cannot read this column.';
CREATE UNIQUE INDEX invitations_pending_idx ON app.invitations (tenant_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_email_idx ON app.invitations (email);

CREATE TABLE app.password_resets (
    tenant_id    bigint      NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    user_id      bigint      NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
    token_hash   bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    auth_version integer     NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    mailed       boolean     NOT NULL DEFAULT false,
    used_at      timestamptz,
    requested_ip inet,
    PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE app.password_resets IS 'Password reset links. Valid while unused, unexpired and the user''s auth_version is unchanged (any password change ends every open link).';
COMMENT ON COLUMN app.password_resets.token_hash IS 'sha256 of the link''s token; the token itself is never stored.';
COMMENT ON COLUMN app.password_resets.mailed IS 'The reset e-mail was queued (once per link).';
CREATE INDEX password_resets_user_idx ON app.password_resets (user_id);

CREATE TABLE app.password_reset_throttle (
    key_hash     bytea       PRIMARY KEY CHECK (length(key_hash) = 32),
    window_start timestamptz NOT NULL,
    requests     integer     NOT NULL DEFAULT 0 CHECK (requests >= 0)
);
COMMENT ON TABLE app.password_reset_throttle IS 'Reset requests per address and per client IP in the current hour, keyed by sha256 of ''email:''||address or ''ip:''||address. No tenant data; only the reset functions touch it.';
CREATE INDEX password_reset_throttle_window_idx ON app.password_reset_throttle (window_start);

ALTER TABLE app.invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.invitations FORCE ROW LEVEL SECURITY;
ALTER TABLE app.password_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.password_resets FORCE ROW LEVEL SECURITY;
ALTER TABLE app.password_reset_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.password_reset_throttle FORCE ROW LEVEL SECURITY;

-- Reads: a tenant admin their tenant's invitations (not the token hash, not held); staff all.
-- Writes: only the functions below (the owner).
CREATE POLICY invitations_tenant_admin_read ON app.invitations FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin');
CREATE POLICY invitations_staff_read ON app.invitations FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY invitations_owner_all ON app.invitations FOR ALL TO geniai_owner USING (true) WITH CHECK (true);
CREATE POLICY password_resets_staff_read ON app.password_resets FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY password_resets_owner_all ON app.password_resets FOR ALL TO geniai_owner USING (true) WITH CHECK (true);
CREATE POLICY password_reset_throttle_owner_all ON app.password_reset_throttle FOR ALL TO geniai_owner
    USING (true) WITH CHECK (true);
REVOKE ALL ON app.password_reset_throttle FROM PUBLIC;

GRANT SELECT (tenant_id, id, email, full_name, role, language, invited_by, created_at, expires_at,
              accepted_at, user_id, revoked_at)
    ON app.invitations TO geniai_tenant;
GRANT SELECT (tenant_id, id, email, full_name, role, language, invited_by, created_at, expires_at,
              accepted_at, user_id, revoked_at, held)
    ON app.invitations TO geniai_staff;
GRANT SELECT (tenant_id, id, user_id, auth_version, created_at, expires_at, mailed, used_at, requested_ip)
    ON app.password_resets TO geniai_staff;
-- A tenant may ask for resets and get nothing (no tenant policy), like the mail queue.
GRANT SELECT (tenant_id, id, user_id, created_at, expires_at, used_at) ON app.password_resets TO geniai_tenant;

-- The functions below (their owner) read tenants' names and colours for the e-mails.
CREATE POLICY tenant_settings_owner_read ON app.tenant_settings FOR SELECT TO geniai_owner USING (true);

-- app.invitation_caller_may checks that the context may invite into p_tenant_id with p_role:
-- a tenant admin into their own tenant as client or admin, super_admin anywhere.
CREATE FUNCTION app.invitation_caller_may(p_tenant_id bigint, p_role text)
    RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT coalesce(app.current_app_role() = 'super_admin'
                    OR (pg_catalog.current_setting('role') = 'geniai_tenant'
                        AND app.current_app_role() = 'admin'
                        AND app.current_tenant_id() = p_tenant_id
                        AND p_role IN ('client', 'admin')), false)
$$;
COMMENT ON FUNCTION app.invitation_caller_may(bigint, text) IS 'Internal: a tenant admin may invite into their own tenant (client, admin); super_admin anywhere.';

-- app.invitation_create invites p_email into p_tenant_id (replacing a pending invitation of the
-- same address there) and queues the rendered e-mail unless the address already has an account
-- in another tenant, in which case the invitation is held: same answer, no e-mail, a platform
-- audit event for staff. An address with an account in the same tenant is a conflict (the caller
-- may know its own users). Returns the invitation id.
CREATE FUNCTION app.invitation_create(p_tenant_id bigint, p_email text, p_full_name text, p_role text,
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
COMMENT ON FUNCTION app.invitation_create(bigint, text, text, text, text, bytea, text, text, text, text) IS 'Invites an address (tenant admin: own tenant, client/admin; super_admin: any). Queues the e-mail unless the address has an account elsewhere (then held, visible to staff only). Audited.';
GRANT EXECUTE ON FUNCTION app.invitation_create(bigint, text, text, text, text, bytea, text, text, text, text)
    TO geniai_tenant, geniai_staff;

-- app.invitation_resend gives a pending invitation a new token and 24 hours, and queues the
-- e-mail again under the same rule (held while the address has an account elsewhere).
CREATE FUNCTION app.invitation_resend(p_tenant_id bigint, p_id bigint, p_token_hash bytea, p_subject text,
                                      p_text text, p_html text, p_message_id text)
    RETURNS boolean
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_inv  record;
    v_held boolean;
BEGIN
    SELECT i.* INTO v_inv FROM app.invitations i
    WHERE i.tenant_id = p_tenant_id AND i.id = p_id AND i.accepted_at IS NULL AND i.revoked_at IS NULL
    FOR UPDATE;
    IF NOT FOUND OR NOT app.invitation_caller_may(p_tenant_id, v_inv.role) THEN
        RETURN false;
    END IF;
    v_held := EXISTS (SELECT FROM app.users u WHERE u.email = v_inv.email);
    PERFORM app.mail_cancel_internal(p_tenant_id, 'invitation:' || p_id, 'replaced by a new link');
    UPDATE app.invitations i
    SET token_hash = p_token_hash, expires_at = pg_catalog.now() + interval '24 hours', held = v_held
    WHERE i.tenant_id = p_tenant_id AND i.id = p_id;
    IF NOT v_held THEN
        PERFORM app.mail_enqueue_internal(p_tenant_id, 'invitation', 'invitation:' || p_id, NULL, v_inv.email,
                                          v_inv.full_name, p_subject, p_text, p_html, '{}', p_message_id, true,
                                          '{}', '{}', '{}', '{}');
    END IF;
    PERFORM audit.log('invitation.resend', 'invitation', p_id::text, NULL,
                      pg_catalog.jsonb_build_object('email', v_inv.email), p_tenant_id);
    RETURN true;
END
$$;
COMMENT ON FUNCTION app.invitation_resend(bigint, bigint, bytea, text, text, text, text) IS 'New link and 24 hours for a pending invitation; e-mail queued under the same rule as app.invitation_create. False when there is no such pending invitation for the caller.';
GRANT EXECUTE ON FUNCTION app.invitation_resend(bigint, bigint, bytea, text, text, text, text) TO geniai_tenant, geniai_staff;

-- app.invitation_revoke withdraws a pending invitation (its link stops working, a queued e-mail
-- is cancelled).
CREATE FUNCTION app.invitation_revoke(p_tenant_id bigint, p_id bigint)
    RETURNS boolean
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_inv record;
BEGIN
    SELECT i.* INTO v_inv FROM app.invitations i
    WHERE i.tenant_id = p_tenant_id AND i.id = p_id AND i.accepted_at IS NULL AND i.revoked_at IS NULL
    FOR UPDATE;
    IF NOT FOUND OR NOT app.invitation_caller_may(p_tenant_id, v_inv.role) THEN
        RETURN false;
    END IF;
    UPDATE app.invitations i SET revoked_at = pg_catalog.now() WHERE i.tenant_id = p_tenant_id AND i.id = p_id;
    PERFORM app.mail_cancel_internal(p_tenant_id, 'invitation:' || p_id, 'invitation revoked');
    PERFORM audit.log('invitation.revoke', 'invitation', p_id::text, NULL,
                      pg_catalog.jsonb_build_object('email', v_inv.email), p_tenant_id);
    RETURN true;
END
$$;
COMMENT ON FUNCTION app.invitation_revoke(bigint, bigint) IS 'Withdraws a pending invitation and cancels its queued e-mail; false when there is none for the caller.';
GRANT EXECUTE ON FUNCTION app.invitation_revoke(bigint, bigint) TO geniai_tenant, geniai_staff;

-- app.invitation_lookup: what the set-password page shows for a link (anonymous). state is
-- valid, expired or used (accepted or revoked); no row for an unknown token.
CREATE FUNCTION app.invitation_lookup(p_token_hash bytea)
    RETURNS TABLE (state text, email text, full_name text, tenant_name text, language text)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN i.accepted_at IS NOT NULL OR i.revoked_at IS NOT NULL OR i.held THEN 'used'
                WHEN i.expires_at <= pg_catalog.now() THEN 'expired'
                ELSE 'valid' END,
           i.email, i.full_name, coalesce(nullif(s.display_name, ''), t.name), i.language
    FROM app.invitations i
    JOIN app.tenants t ON t.id = i.tenant_id
    LEFT JOIN app.tenant_settings s ON s.tenant_id = i.tenant_id
    WHERE i.token_hash = p_token_hash
$$;
COMMENT ON FUNCTION app.invitation_lookup(bytea) IS 'Set-password page: the invitation behind a token hash (valid, expired or used), or no row.';
GRANT EXECUTE ON FUNCTION app.invitation_lookup(bytea) TO geniai_anon;

-- app.invitation_accept creates the account of a valid invitation with the given bcrypt hash and
-- closes the invitation. Errors: invalid_authorization_specification for an unknown, used or
-- expired link; unique_violation (users_email_key) when the address got an account meanwhile.
CREATE FUNCTION app.invitation_accept(p_token_hash bytea, p_password_hash text)
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
COMMENT ON FUNCTION app.invitation_accept(bytea, text) IS 'Creates the account of a valid invitation (anonymous, with the token hash) and closes it; audited as invitation.accept.';
GRANT EXECUTE ON FUNCTION app.invitation_accept(bytea, text) TO geniai_anon;

-- app.password_reset_request: one "Esqueci minha senha" request. Throttled per client IP
-- (20 an hour: outcome ip_throttled and the seconds to wait) and per address (3 an hour: answered
-- like an unknown address). For an active account of a tenant that may sign in, stores a reset
-- (1 hour) under p_token_hash and returns outcome ok with what the e-mail needs; otherwise
-- outcome none. Audited as password_reset.request.
CREATE FUNCTION app.password_reset_request(p_email text, p_ip inet, p_token_hash bytea)
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
COMMENT ON FUNCTION app.password_reset_request(text, inet, bytea) IS 'Esqueci minha senha: throttles per IP (20/h) and address (3/h), stores a 1-hour reset for an active account; outcome ok (with what the e-mail needs), none, or ip_throttled. Audited.';
GRANT EXECUTE ON FUNCTION app.password_reset_request(text, inet, bytea) TO geniai_anon;

-- app.password_reset_mail queues the e-mail of a reset just created by app.password_reset_request
-- (once per link, within 10 minutes of the request).
CREATE FUNCTION app.password_reset_mail(p_token_hash bytea, p_subject text, p_text text, p_html text,
                                        p_message_id text)
    RETURNS boolean
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_r record;
    v_email text;
    v_name text;
BEGIN
    UPDATE app.password_resets r SET mailed = true
    WHERE r.token_hash = p_token_hash AND NOT r.mailed AND r.used_at IS NULL
      AND r.created_at > pg_catalog.now() - interval '10 minutes'
    RETURNING r.tenant_id, r.id, r.user_id INTO v_r;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT u.email, u.full_name INTO v_email, v_name FROM app.users u WHERE u.id = v_r.user_id;
    PERFORM app.mail_enqueue_internal(v_r.tenant_id, 'password_reset', 'password_reset:' || v_r.id, v_r.user_id,
                                      v_email, v_name, p_subject, p_text, p_html, '{}', p_message_id, true,
                                      '{}', '{}', '{}', '{}');
    RETURN true;
END
$$;
COMMENT ON FUNCTION app.password_reset_mail(bytea, text, text, text, text) IS 'Queues the e-mail of a just-requested reset, once per link.';
GRANT EXECUTE ON FUNCTION app.password_reset_mail(bytea, text, text, text, text) TO geniai_anon;

-- app.password_reset_lookup: what the reset page shows (anonymous): valid, or invalid for an
-- unknown, used, expired or superseded link.
CREATE FUNCTION app.password_reset_lookup(p_token_hash bytea)
    RETURNS TABLE (valid boolean, email text, language text)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT r.used_at IS NULL AND r.expires_at > pg_catalog.now() AND u.is_active
           AND u.auth_version = r.auth_version, u.email, u.language
    FROM app.password_resets r
    JOIN app.users u ON u.id = r.user_id
    WHERE r.token_hash = p_token_hash
$$;
COMMENT ON FUNCTION app.password_reset_lookup(bytea) IS 'Reset page: whether the link behind a token hash is still valid (unused, unexpired, no password change since).';
GRANT EXECUTE ON FUNCTION app.password_reset_lookup(bytea) TO geniai_anon;

-- app.password_reset_complete sets a new password through a valid reset link: the hash replaces
-- the old one, auth_version moves (ending every session and every other open link), lockout
-- counters clear, the link is used. invalid_authorization_specification for a bad link.
CREATE FUNCTION app.password_reset_complete(p_token_hash bytea, p_password_hash text)
    RETURNS TABLE (user_id bigint, email text)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    v_r record;
BEGIN
    SELECT r.tenant_id, r.id, r.user_id, r.auth_version, r.used_at, r.expires_at INTO v_r
    FROM app.password_resets r WHERE r.token_hash = p_token_hash FOR UPDATE;
    IF NOT FOUND OR v_r.used_at IS NOT NULL OR v_r.expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION 'reset link invalid, used or expired' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    UPDATE app.users u
    SET password_hash = p_password_hash, auth_version = u.auth_version + 1,
        failed_attempts = 0, locked_until = NULL, lockout_count = 0
    WHERE u.id = v_r.user_id AND u.is_active AND u.auth_version = v_r.auth_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'reset link superseded by a password change' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    UPDATE app.password_resets r SET used_at = pg_catalog.now() WHERE r.tenant_id = v_r.tenant_id AND r.id = v_r.id;
    PERFORM audit.log('password_reset.complete', 'user', v_r.user_id::text, NULL,
                      pg_catalog.jsonb_build_object('reset_id', v_r.id), v_r.tenant_id);
    RETURN QUERY SELECT u.id, u.email FROM app.users u WHERE u.id = v_r.user_id;
END
$$;
COMMENT ON FUNCTION app.password_reset_complete(bytea, text) IS 'Sets a new password through a valid reset link (anonymous); ends every session and open link of the user; audited as password_reset.complete.';
GRANT EXECUTE ON FUNCTION app.password_reset_complete(bytea, text) TO geniai_anon;

-- app.mail_cancel_internal: app.mail_cancel without the caller check, for the functions above.
CREATE FUNCTION app.mail_cancel_internal(p_tenant_id bigint, p_ref text, p_reason text)
    RETURNS integer
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH c AS (
        UPDATE app.mail_outbox o SET status = 'cancelled', last_error = p_reason
        WHERE o.tenant_id = p_tenant_id AND o.ref = p_ref AND o.status = 'queued'
        RETURNING 1
    )
    SELECT count(*)::integer FROM c
$$;
COMMENT ON FUNCTION app.mail_cancel_internal(bigint, text, text) IS 'Internal: cancels queued messages by ref; callers check who may.';

---- create above / drop below ----

DROP FUNCTION app.password_reset_complete(bytea, text);
DROP FUNCTION app.password_reset_lookup(bytea);
DROP FUNCTION app.password_reset_mail(bytea, text, text, text, text);
DROP FUNCTION app.password_reset_request(text, inet, bytea);
DROP FUNCTION app.invitation_accept(bytea, text);
DROP FUNCTION app.invitation_lookup(bytea);
DROP FUNCTION app.invitation_revoke(bigint, bigint);
DROP FUNCTION app.invitation_resend(bigint, bigint, bytea, text, text, text, text);
DROP FUNCTION app.invitation_create(bigint, text, text, text, text, bytea, text, text, text, text);
DROP FUNCTION app.invitation_caller_may(bigint, text);
DROP FUNCTION app.mail_cancel_internal(bigint, text, text);
DROP POLICY tenant_settings_owner_read ON app.tenant_settings;
DROP TABLE app.password_reset_throttle;
DROP TABLE app.password_resets;
DROP TABLE app.invitations;
