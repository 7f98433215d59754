-- Sign-in: e-mail lookup, per-e-mail lockout, per-IP throttle, the per-request principal re-check
-- and self-service password change. Every function is SECURITY DEFINER with
-- search_path = pg_catalog, pg_temp and qualified names; EXECUTE is granted to exactly the role that
-- needs it.
--
-- Every time decision uses the database clock (pg_catalog.now()); no function takes a time
-- argument, so no caller (nor SQL injected as geniai_anon) can shorten a lockout, unblock an IP,
-- purge throttle rows or revive an expired trial. Tests simulate time passing by ageing the stored
-- times as a superuser.
--
-- Lockout rules, the same for every normalised e-mail whether or not an account has it (so a
-- lockout never reveals that an e-mail exists): 5 consecutive failures lock the e-mail for
-- 15 minutes, doubling with each lockout (capped at 24 hours); failures during a lockout do not
-- extend it; 24 hours without a failure forget the history. The counters of a real account live in
-- app.users (where staff see and clear them); those of an unknown e-mail in
-- app.login_email_throttle, which also records every e-mail's last failure (the 24-hour rule).

CREATE TABLE app.login_throttle (
    ip           inet        PRIMARY KEY,
    window_start timestamptz NOT NULL,
    failures     integer     NOT NULL DEFAULT 0 CHECK (failures >= 0)
);
COMMENT ON TABLE app.login_throttle IS 'Failed sign-ins per client IP in the current 10-minute window. No tenant data; only the login functions touch it.';
COMMENT ON COLUMN app.login_throttle.window_start IS 'Start of the current counting window; a failure after window_start + 10 minutes starts a new one.';
COMMENT ON COLUMN app.login_throttle.failures IS 'Failed sign-ins from this IP since window_start.';
CREATE INDEX login_throttle_window_idx ON app.login_throttle (window_start);
ALTER TABLE app.login_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.login_throttle FORCE ROW LEVEL SECURITY;
CREATE POLICY login_throttle_owner_all ON app.login_throttle FOR ALL TO geniai_owner
    USING (true) WITH CHECK (true);
REVOKE ALL ON app.login_throttle FROM PUBLIC;

CREATE TABLE app.login_email_throttle (
    email_hash      bytea       PRIMARY KEY CHECK (pg_catalog.length(email_hash) = 32),
    failed_attempts integer     NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until    timestamptz,
    lockout_count   integer     NOT NULL DEFAULT 0 CHECK (lockout_count >= 0),
    last_failure_at timestamptz NOT NULL
);
COMMENT ON TABLE app.login_email_throttle IS 'Failed sign-ins per normalised e-mail (known or not), keyed by its SHA-256 so no address is stored; lets unknown e-mails lock exactly like accounts. No tenant data; only the login functions touch it.';
COMMENT ON COLUMN app.login_email_throttle.email_hash IS 'sha256 of the trimmed, lower-cased e-mail.';
COMMENT ON COLUMN app.login_email_throttle.failed_attempts IS 'Consecutive failures since the last lockout (authoritative for unknown e-mails; app.users holds an account''s).';
COMMENT ON COLUMN app.login_email_throttle.locked_until IS 'Sign-in refused until this time (authoritative for unknown e-mails).';
COMMENT ON COLUMN app.login_email_throttle.lockout_count IS 'Lockouts so far; each doubles the next (authoritative for unknown e-mails).';
COMMENT ON COLUMN app.login_email_throttle.last_failure_at IS 'Last failed attempt for the e-mail; 24 hours later its history is forgotten and the row may be pruned.';
CREATE INDEX login_email_throttle_last_failure_idx ON app.login_email_throttle (last_failure_at);
ALTER TABLE app.login_email_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.login_email_throttle FORCE ROW LEVEL SECURITY;
CREATE POLICY login_email_throttle_owner_all ON app.login_email_throttle FOR ALL TO geniai_owner
    USING (true) WITH CHECK (true);
REVOKE ALL ON app.login_email_throttle FROM PUBLIC;

-- app.login_retry_seconds: whole seconds from the database clock until t (0 when t is past or NULL).
CREATE FUNCTION app.login_retry_seconds(t timestamptz)
    RETURNS integer
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN t > pg_catalog.now()
                THEN pg_catalog.ceil(EXTRACT(epoch FROM t - pg_catalog.now()))::integer
                ELSE 0 END
$$;
COMMENT ON FUNCTION app.login_retry_seconds(timestamptz) IS 'Seconds (rounded up) from the database clock until t; 0 when t is NULL or past.';

-- app.login_lookup returns what sign-in needs to decide, or no row for an unknown e-mail.
-- locked_seconds and checked_at come from the database clock.
CREATE FUNCTION app.login_lookup(p_email text)
    RETURNS TABLE (user_id bigint, tenant_id bigint, role text, password_hash text, is_active boolean,
                   locked_seconds integer, tenant_status text, trial_ends_at timestamptz,
                   tenant_slug text, tenant_name text, auth_version integer, checked_at timestamptz)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT u.id, u.tenant_id, u.role, u.password_hash, u.is_active, app.login_retry_seconds(u.locked_until),
           t.status, t.trial_ends_at, t.slug, t.name, u.auth_version, pg_catalog.now()
    FROM app.users u
    JOIN app.tenants t ON t.id = u.tenant_id
    WHERE u.email = pg_catalog.lower(pg_catalog.btrim(p_email))
$$;
COMMENT ON FUNCTION app.login_lookup(text) IS 'Sign-in: the account behind an e-mail (with its bcrypt hash, lock and tenant status by the database clock), or no row.';

-- app.login_ip_blocked: seconds until the IP may try again (0: allowed). 30 failures in a
-- 10-minute window block the IP until the window ends.
CREATE FUNCTION app.login_ip_blocked(p_ip inet)
    RETURNS integer
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT coalesce((
        SELECT app.login_retry_seconds(l.window_start + interval '10 minutes')
        FROM app.login_throttle l
        WHERE l.ip = p_ip
          AND l.failures >= 30), 0)
$$;
COMMENT ON FUNCTION app.login_ip_blocked(inet) IS 'Seconds until a throttled IP may try to sign in again; 0 when allowed (30 failures per 10 minutes, database clock).';

-- app.login_count_failure applies the lockout rules to one failed attempt for an e-mail, known or
-- not, and audits it as p_action (plus login.lockout when it locks). Internal: called only by the
-- SECURITY DEFINER functions below, executable by no one else.
CREATE FUNCTION app.login_count_failure(p_email text, p_action text)
    RETURNS TABLE (user_id bigint, retry_seconds integer, locked_now boolean)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    v_now      timestamptz := pg_catalog.now();
    v_email    text := pg_catalog.left(pg_catalog.lower(pg_catalog.btrim(p_email)), 254);
    v_hash     bytea := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.left(pg_catalog.lower(pg_catalog.btrim(p_email)), 254), 'UTF8'));
    v_row      record;
    v_user     record;
    v_known    boolean;
    v_inserted boolean;
    v_recent   boolean;
    v_failed   integer;
    v_locked   timestamptz;
    v_count    integer;
    v_fresh    boolean := false;
    v_reason   text;
BEGIN
    -- Storage only: rows idle for 24 hours carry no state the rules still use.
    DELETE FROM app.login_email_throttle
    WHERE email_hash IN (SELECT e.email_hash FROM app.login_email_throttle e
                         WHERE e.last_failure_at < v_now - interval '24 hours'
                           AND (e.locked_until IS NULL OR e.locked_until <= v_now)
                         ORDER BY e.last_failure_at LIMIT 1000
                         FOR UPDATE SKIP LOCKED);

    SELECT e.failed_attempts, e.locked_until, e.lockout_count, e.last_failure_at
    INTO v_row
    FROM app.login_email_throttle e
    WHERE e.email_hash = v_hash
    FOR UPDATE;
    IF FOUND THEN
        v_recent := v_row.last_failure_at >= v_now - interval '24 hours';
    ELSE
        INSERT INTO app.login_email_throttle AS e (email_hash, last_failure_at)
        VALUES (v_hash, v_now)
        ON CONFLICT (email_hash) DO NOTHING
        RETURNING true INTO v_inserted;
        SELECT e.failed_attempts, e.locked_until, e.lockout_count, e.last_failure_at
        INTO v_row
        FROM app.login_email_throttle e
        WHERE e.email_hash = v_hash
        FOR UPDATE;
        -- A concurrent attempt created the row (and applied the rules) first: its history is recent.
        v_recent := NOT coalesce(v_inserted, false);
    END IF;

    SELECT u.id, u.tenant_id, u.failed_attempts, u.locked_until, u.lockout_count
    INTO v_user
    FROM app.users u
    WHERE u.email = v_email
    FOR UPDATE;
    v_known := FOUND;

    IF v_known THEN
        v_failed := v_user.failed_attempts; v_locked := v_user.locked_until; v_count := v_user.lockout_count;
    ELSE
        v_failed := v_row.failed_attempts; v_locked := v_row.locked_until; v_count := v_row.lockout_count;
    END IF;
    IF NOT v_recent THEN
        v_failed := 0; v_count := 0;
    END IF;

    IF v_locked IS NOT NULL AND v_locked > v_now THEN
        v_reason := 'locked'; -- attempts during a lockout do not extend it
    ELSE
        v_reason := CASE WHEN v_known THEN 'bad_password' ELSE 'unknown_email' END;
        IF v_failed + 1 >= 5 THEN
            v_locked := least(v_now + interval '15 minutes' * pg_catalog.power(2, least(v_count, 6)),
                              v_now + interval '24 hours');
            v_failed := 0; v_count := v_count + 1; v_fresh := true;
        ELSE
            v_failed := v_failed + 1; v_locked := NULL;
        END IF;
    END IF;

    UPDATE app.login_email_throttle e
    SET failed_attempts = v_failed, locked_until = v_locked, lockout_count = v_count, last_failure_at = v_now
    WHERE e.email_hash = v_hash;
    IF v_known THEN
        UPDATE app.users u
        SET failed_attempts = v_failed, locked_until = v_locked, lockout_count = v_count
        WHERE u.id = v_user.id
          AND (u.failed_attempts, u.locked_until, u.lockout_count) IS DISTINCT FROM (v_failed, v_locked, v_count);
    END IF;

    PERFORM audit.log(p_action, 'user', CASE WHEN v_known THEN v_user.id::text END, NULL,
                      pg_catalog.jsonb_build_object('email', v_email, 'reason', v_reason),
                      CASE WHEN v_known THEN v_user.tenant_id END);
    IF v_fresh THEN
        PERFORM audit.log('login.lockout', 'user', CASE WHEN v_known THEN v_user.id::text END, NULL,
                          pg_catalog.jsonb_build_object('email', v_email, 'locked_until', v_locked,
                                                        'lockout_count', v_count, 'known', v_known),
                          CASE WHEN v_known THEN v_user.tenant_id END);
    END IF;
    RETURN QUERY SELECT CASE WHEN v_known THEN v_user.id END, app.login_retry_seconds(v_locked), v_fresh;
END
$$;
COMMENT ON FUNCTION app.login_count_failure(text, text) IS 'Internal: one failed attempt for an e-mail (known or not) under the lockout rules; audits p_action and login.lockout.';

-- app.login_fail records a failed sign-in per IP and per e-mail and answers how many seconds the
-- e-mail stays locked (0: not locked), the same way for known and unknown e-mails.
CREATE FUNCTION app.login_fail(p_email text, p_ip inet, p_user_agent text)
    RETURNS TABLE (retry_seconds integer, locked_now boolean)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := pg_catalog.now();
BEGIN
    IF coalesce(pg_catalog.current_setting('geniai.ip', true), '') = '' THEN
        PERFORM pg_catalog.set_config('geniai.ip', coalesce(pg_catalog.host(p_ip), ''), true);
    END IF;
    IF coalesce(pg_catalog.current_setting('geniai.user_agent', true), '') = '' THEN
        PERFORM pg_catalog.set_config('geniai.user_agent', coalesce(pg_catalog.left(p_user_agent, 500), ''), true);
    END IF;

    IF p_ip IS NOT NULL THEN
        DELETE FROM app.login_throttle
        WHERE ip IN (SELECT l.ip FROM app.login_throttle l
                     WHERE l.window_start < v_now - interval '1 hour'
                     ORDER BY l.window_start LIMIT 1000
                     FOR UPDATE SKIP LOCKED);
        INSERT INTO app.login_throttle AS l (ip, window_start, failures)
        VALUES (p_ip, v_now, 1)
        ON CONFLICT (ip) DO UPDATE
        SET window_start = CASE WHEN l.window_start + interval '10 minutes' <= v_now THEN v_now ELSE l.window_start END,
            failures     = CASE WHEN l.window_start + interval '10 minutes' <= v_now THEN 1 ELSE l.failures + 1 END;
    END IF;

    RETURN QUERY SELECT f.retry_seconds, f.locked_now
                 FROM app.login_count_failure(p_email, 'login.failure') AS f;
END
$$;
COMMENT ON FUNCTION app.login_fail(text, inet, text) IS 'Records a failed sign-in (per IP and per e-mail, known or not), locks the e-mail after 5 consecutive failures, audits login.failure / login.lockout; returns the seconds the e-mail stays locked.';

-- app.login_succeed records a successful sign-in: counters reset, last login stamped, audited as
-- the user who signed in. A locked account is left untouched and the answer is the seconds it
-- stays locked (0: signed in).
CREATE FUNCTION app.login_succeed(p_user_id bigint, p_ip inet, p_user_agent text)
    RETURNS integer
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_tenant bigint;
    v_role   text;
    v_locked timestamptz;
BEGIN
    SELECT u.tenant_id, u.role, u.locked_until INTO v_tenant, v_role, v_locked
    FROM app.users u
    WHERE u.id = p_user_id AND u.is_active
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % cannot sign in', p_user_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v_locked > pg_catalog.now() THEN
        RETURN app.login_retry_seconds(v_locked);
    END IF;
    UPDATE app.users
    SET failed_attempts = 0, locked_until = NULL, lockout_count = 0,
        last_login_at = pg_catalog.now(), last_login_ip = p_ip
    WHERE id = p_user_id;
    PERFORM pg_catalog.set_config('geniai.user_id', p_user_id::text, true);
    PERFORM pg_catalog.set_config('geniai.app_role', v_role, true);
    IF coalesce(pg_catalog.current_setting('geniai.ip', true), '') = '' THEN
        PERFORM pg_catalog.set_config('geniai.ip', coalesce(pg_catalog.host(p_ip), ''), true);
    END IF;
    IF coalesce(pg_catalog.current_setting('geniai.user_agent', true), '') = '' THEN
        PERFORM pg_catalog.set_config('geniai.user_agent', coalesce(pg_catalog.left(p_user_agent, 500), ''), true);
    END IF;
    PERFORM audit.log('login.success', 'user', p_user_id::text, NULL, NULL, v_tenant);
    RETURN 0;
END
$$;
COMMENT ON FUNCTION app.login_succeed(bigint, inet, text) IS 'Records a successful sign-in (counters reset, last_login_at/ip, login.success); a locked account is untouched and the seconds it stays locked are returned.';

-- app.principal_check re-validates a signed-in session on every request. It answers only for the
-- user in the request context, so a session can only check itself.
CREATE FUNCTION app.principal_check(p_user_id bigint, p_auth_version integer)
    RETURNS TABLE (user_id bigint, tenant_id bigint, email text, full_name text, role text,
                   is_active boolean, auth_version integer, tenant_status text,
                   trial_ends_at timestamptz, tenant_slug text, tenant_name text,
                   is_platform boolean, allowed boolean)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
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
COMMENT ON FUNCTION app.principal_check(bigint, integer) IS 'Per-request re-check of the context user: allowed only when active, auth_version matches and the tenant is active or in an unexpired trial (database clock).';

-- app.user_own_password_check: the context user's bcrypt hash, to verify the current password,
-- and the seconds the account stays locked (a locked account may not try: the caller must refuse
-- without comparing).
CREATE FUNCTION app.user_own_password_check()
    RETURNS TABLE (password_hash text, retry_seconds integer)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT u.password_hash, app.login_retry_seconds(u.locked_until)
    FROM app.users u
    WHERE u.id = app.current_user_id() AND u.is_active
$$;
COMMENT ON FUNCTION app.user_own_password_check() IS 'bcrypt hash of the context user and the seconds its account stays locked (self-service password change); no row without a context user.';

-- app.user_own_password_fail counts a wrong current password on the password change page as a
-- failed attempt for the context user's account (same lockout rules as sign-in), audited as
-- password.change_failed; returns the seconds the account stays locked (0: not locked).
CREATE FUNCTION app.user_own_password_fail()
    RETURNS integer
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_email text;
    v_retry integer;
BEGIN
    SELECT u.email INTO v_email FROM app.users u WHERE u.id = app.current_user_id() AND u.is_active;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no active user in the request context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT f.retry_seconds INTO v_retry FROM app.login_count_failure(v_email, 'password.change_failed') AS f;
    RETURN v_retry;
END
$$;
COMMENT ON FUNCTION app.user_own_password_fail() IS 'Wrong current password on the password change page: a failed attempt for the context user''s account (lockout rules), audited as password.change_failed; returns the seconds it stays locked.';

-- app.user_set_own_password replaces the context user's hash and bumps auth_version, which ends
-- every session carrying the old version. It changes nothing else (never the role), and refuses a
-- locked account.
CREATE FUNCTION app.user_set_own_password(p_hash text)
    RETURNS integer
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_uid     bigint := app.current_user_id();
    v_version integer;
    v_tenant  bigint;
BEGIN
    IF v_uid IS NULL THEN
        RAISE EXCEPTION 'no user in the request context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE app.users
    SET password_hash = p_hash, auth_version = auth_version + 1,
        failed_attempts = 0, locked_until = NULL, lockout_count = 0
    WHERE id = v_uid AND is_active
      AND (locked_until IS NULL OR locked_until <= pg_catalog.now())
    RETURNING auth_version, tenant_id INTO v_version, v_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % not found, inactive or locked', v_uid USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM audit.log('password.change', 'user', v_uid::text, NULL,
                      pg_catalog.jsonb_build_object('auth_version', v_version), v_tenant);
    RETURN v_version;
END
$$;
COMMENT ON FUNCTION app.user_set_own_password(text) IS 'Self-service password change for the context user (not while locked): new hash, auth_version + 1 (other sessions end), audited as password.change.';

REVOKE ALL ON FUNCTION app.login_retry_seconds(timestamptz), app.login_count_failure(text, text),
    app.login_lookup(text), app.login_ip_blocked(inet),
    app.login_fail(text, inet, text), app.login_succeed(bigint, inet, text),
    app.principal_check(bigint, integer), app.user_own_password_check(), app.user_own_password_fail(),
    app.user_set_own_password(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.login_lookup(text), app.login_ip_blocked(inet),
    app.login_fail(text, inet, text), app.login_succeed(bigint, inet, text)
    TO geniai_anon;
GRANT EXECUTE ON FUNCTION app.principal_check(bigint, integer), app.user_own_password_check(),
    app.user_own_password_fail(), app.user_set_own_password(text) TO geniai_tenant, geniai_staff;

---- create above / drop below ----

DROP FUNCTION app.user_set_own_password(text);
DROP FUNCTION app.user_own_password_fail();
DROP FUNCTION app.user_own_password_check();
DROP FUNCTION app.principal_check(bigint, integer);
DROP FUNCTION app.login_succeed(bigint, inet, text);
DROP FUNCTION app.login_fail(text, inet, text);
DROP FUNCTION app.login_count_failure(text, text);
DROP FUNCTION app.login_ip_blocked(inet);
DROP FUNCTION app.login_lookup(text);
DROP FUNCTION app.login_retry_seconds(timestamptz);
DROP TABLE app.login_email_throttle;
DROP TABLE app.login_throttle;
