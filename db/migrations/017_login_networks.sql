-- Sign-in lockout per account AND client network, so nobody can lock someone else out.
--
-- Before: five wrong passwords for an e-mail locked it everywhere, doubling up to 24 hours, so
-- a few anonymous requests a day kept anyone (staff included) out. Now the failures of an e-mail
-- are counted per client network (a /24 for IPv4, a /64 for IPv6): five consecutive failures from
-- one network lock that e-mail FROM THAT NETWORK only (15 minutes, doubling with each lockout,
-- capped at 24 hours; failures during a lockout do not extend it; 24 hours without a failure
-- forget a network's history). The account's owner on any other network signs in as usual.
-- Known and unknown e-mails follow the same rules, so a lockout still reveals nothing.
--
-- A distributed guess (many networks, few tries each) never locks anyone: it is seen. When an
-- account's failures in 24 hours come from 3 or more networks, or reach 20, it is "under attack":
-- audited once a day as login.attack_suspected, and listed for staff (app.login_watch) beside the
-- accounts locked on some network. The IP throttle (30 failures per 10 minutes) now counts an
-- IPv6 client by its /64, so rotating addresses inside one's own prefix gains nothing.
--
-- app.users.failed_attempts / locked_until / lockout_count become a summary for staff lists:
-- failures and lockouts of the last 24 hours over every network, and the latest end of a lock on
-- any network. No sign-in decision reads them.
--
-- Deploying this lifts the lockouts in force (their network was not recorded).

CREATE FUNCTION app.login_network(p_ip inet) RETURNS cidr
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN p_ip IS NULL THEN '0.0.0.0/0'::cidr
                WHEN pg_catalog.family(p_ip) = 4 THEN pg_catalog.network(pg_catalog.set_masklen(p_ip, 24))
                ELSE pg_catalog.network(pg_catalog.set_masklen(p_ip, 64)) END
$$;
COMMENT ON FUNCTION app.login_network(inet) IS 'The client network an address belongs to for lockouts: its /24 (IPv4) or /64 (IPv6); 0.0.0.0/0 when unknown.';

CREATE FUNCTION app.login_client(p_ip inet) RETURNS inet
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN p_ip IS NULL OR pg_catalog.family(p_ip) = 4 THEN pg_catalog.host(p_ip)::inet
                ELSE pg_catalog.network(pg_catalog.set_masklen(p_ip, 64))::inet END
$$;
COMMENT ON FUNCTION app.login_client(inet) IS 'The key of the per-client IP throttle: the IPv4 address, or the /64 of an IPv6 address.';

CREATE TABLE app.login_failures (
    email_hash      bytea       NOT NULL CHECK (pg_catalog.length(email_hash) = 32),
    network         cidr        NOT NULL,
    failed_attempts integer     NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until    timestamptz,
    lockout_count   integer     NOT NULL DEFAULT 0 CHECK (lockout_count >= 0),
    last_failure_at timestamptz NOT NULL,
    PRIMARY KEY (email_hash, network)
);
COMMENT ON TABLE app.login_failures IS 'Failed sign-ins per normalised e-mail (known or not, by its SHA-256) and client network (/24 or /64). A lock applies to that network only. No tenant data; only the login functions touch it.';
COMMENT ON COLUMN app.login_failures.failed_attempts IS 'Consecutive failures from this network since its last lockout or success.';
COMMENT ON COLUMN app.login_failures.locked_until IS 'Sign-in of this e-mail from this network refused until then.';
COMMENT ON COLUMN app.login_failures.lockout_count IS 'Lockouts from this network so far; each doubles the next.';
COMMENT ON COLUMN app.login_failures.last_failure_at IS 'Last failure from this network; 24 hours later the history is forgotten and the row may be pruned.';
CREATE INDEX login_failures_last_failure_idx ON app.login_failures (last_failure_at);
ALTER TABLE app.login_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.login_failures FORCE ROW LEVEL SECURITY;
CREATE POLICY login_failures_owner_all ON app.login_failures FOR ALL TO geniai_owner
    USING (true) WITH CHECK (true);
REVOKE ALL ON app.login_failures FROM PUBLIC;

ALTER TABLE app.users ADD COLUMN login_alert_at timestamptz;
COMMENT ON COLUMN app.users.login_alert_at IS 'When the last login.attack_suspected alert for this account was audited (at most one a day).';
COMMENT ON COLUMN app.users.failed_attempts IS 'Summary for staff: failed sign-ins of the last 24 hours over every network (the lock rules count per network, in app.login_failures).';
COMMENT ON COLUMN app.users.locked_until IS 'Summary for staff: the latest end of a lock on any client network; sign-in from other networks is not refused.';
COMMENT ON COLUMN app.users.lockout_count IS 'Summary for staff: lockouts of the last 24 hours over every network.';
GRANT SELECT (login_alert_at) ON app.users TO geniai_staff;

-- app.login_email_hash: the key of an e-mail in app.login_failures.
CREATE FUNCTION app.login_email_hash(p_email text) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.left(pg_catalog.lower(pg_catalog.btrim(p_email)), 254), 'UTF8'))
$$;
COMMENT ON FUNCTION app.login_email_hash(text) IS 'sha256 of the trimmed, lower-cased e-mail (first 254 characters): its key in app.login_failures.';

-- app.login_locked_until: when the e-mail's lock on the network of p_ip ends (NULL: not locked).
CREATE FUNCTION app.login_locked_until(p_email text, p_ip inet) RETURNS timestamptz
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT f.locked_until
    FROM app.login_failures f
    WHERE f.email_hash = app.login_email_hash(p_email)
      AND f.network = app.login_network(p_ip)
      AND f.locked_until > pg_catalog.now()
$$;
COMMENT ON FUNCTION app.login_locked_until(text, inet) IS 'Internal: end of the lock of an e-mail on the client network of p_ip, NULL when not locked there.';

-- app.login_summarise refreshes the staff summary of an account from its rows in
-- app.login_failures, and audits login.attack_suspected when the last 24 hours look like an attack
-- (failures from 3 or more networks, or 20 failures) and no alert was audited for a day.
CREATE FUNCTION app.login_summarise(p_user_id bigint)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_now  timestamptz := pg_catalog.now();
    v_user record;
    v_sum  record;
BEGIN
    SELECT u.id, u.tenant_id, u.email, u.login_alert_at INTO v_user
    FROM app.users u WHERE u.id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT coalesce(sum(f.failed_attempts + 5 * f.lockout_count), 0)::integer AS failures,
           coalesce(sum(f.failed_attempts), 0)::integer AS pending,
           coalesce(sum(f.lockout_count), 0)::integer AS lockouts,
           max(f.locked_until) FILTER (WHERE f.locked_until > v_now) AS locked_until,
           count(*)::integer AS networks,
           pg_catalog.array_agg(f.network::text ORDER BY f.last_failure_at DESC) AS network_list
    INTO v_sum
    FROM app.login_failures f
    WHERE f.email_hash = app.login_email_hash(v_user.email)
      AND f.last_failure_at >= v_now - interval '24 hours';
    UPDATE app.users u
    SET failed_attempts = v_sum.pending, locked_until = v_sum.locked_until, lockout_count = v_sum.lockouts
    WHERE u.id = v_user.id
      AND (u.failed_attempts, u.locked_until, u.lockout_count) IS DISTINCT FROM (v_sum.pending, v_sum.locked_until, v_sum.lockouts);
    IF (v_sum.networks >= 3 OR v_sum.failures >= 20)
       AND (v_user.login_alert_at IS NULL OR v_user.login_alert_at < v_now - interval '24 hours') THEN
        UPDATE app.users u SET login_alert_at = v_now WHERE u.id = v_user.id;
        PERFORM audit.log('login.attack_suspected', 'user', v_user.id::text, NULL,
                          pg_catalog.jsonb_build_object('email', v_user.email, 'failures_24h', v_sum.failures,
                                                        'networks_24h', v_sum.networks,
                                                        'networks', v_sum.network_list[1:10]),
                          v_user.tenant_id);
    END IF;
END
$$;
COMMENT ON FUNCTION app.login_summarise(bigint) IS 'Internal: refreshes the staff summary columns of an account from app.login_failures and audits login.attack_suspected (3+ networks or 20 failures in 24 hours, once a day).';

DROP FUNCTION app.user_own_password_fail();
DROP FUNCTION app.user_own_password_check();
DROP FUNCTION app.login_fail(text, inet, text);
DROP FUNCTION app.login_count_failure(text, text);
DROP FUNCTION app.login_lookup(text);

-- app.login_count_failure applies the lockout rules to one failed attempt for an e-mail, known or
-- not, from the client network of p_ip, and audits it as p_action (plus login.lockout when it
-- locks). Internal: called only by the SECURITY DEFINER functions below.
CREATE FUNCTION app.login_count_failure(p_email text, p_action text, p_ip inet)
    RETURNS TABLE (user_id bigint, retry_seconds integer, locked_now boolean)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    v_now    timestamptz := pg_catalog.now();
    v_email  text := pg_catalog.left(pg_catalog.lower(pg_catalog.btrim(p_email)), 254);
    v_hash   bytea := app.login_email_hash(p_email);
    v_net    cidr := app.login_network(p_ip);
    v_row    record;
    v_user   record;
    v_known  boolean;
    v_failed integer;
    v_locked timestamptz;
    v_count  integer;
    v_fresh  boolean := false;
    v_reason text;
BEGIN
    -- Storage only: rows idle for 24 hours carry no state the rules still use.
    DELETE FROM app.login_failures
    WHERE (email_hash, network) IN (SELECT f.email_hash, f.network FROM app.login_failures f
                                    WHERE f.last_failure_at < v_now - interval '24 hours'
                                      AND (f.locked_until IS NULL OR f.locked_until <= v_now)
                                    ORDER BY f.last_failure_at LIMIT 1000
                                    FOR UPDATE SKIP LOCKED);

    -- Locks are taken account first, then its failure row (as every function here does).
    SELECT u.id, u.tenant_id INTO v_user FROM app.users u WHERE u.email = v_email FOR UPDATE;
    v_known := FOUND;

    -- A new row starts with no history ('-infinity' is never recent); concurrent attempts queue
    -- on its row lock and each sees the previous one's counts.
    INSERT INTO app.login_failures AS f (email_hash, network, last_failure_at)
    VALUES (v_hash, v_net, '-infinity')
    ON CONFLICT (email_hash, network) DO NOTHING;
    SELECT f.failed_attempts, f.locked_until, f.lockout_count, f.last_failure_at
    INTO v_row
    FROM app.login_failures f
    WHERE f.email_hash = v_hash AND f.network = v_net
    FOR UPDATE;

    v_failed := v_row.failed_attempts; v_locked := v_row.locked_until; v_count := v_row.lockout_count;
    IF v_row.last_failure_at < v_now - interval '24 hours' THEN
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

    UPDATE app.login_failures f
    SET failed_attempts = v_failed, locked_until = v_locked, lockout_count = v_count, last_failure_at = v_now
    WHERE f.email_hash = v_hash AND f.network = v_net;

    PERFORM audit.log(p_action, 'user', CASE WHEN v_known THEN v_user.id::text END, NULL,
                      pg_catalog.jsonb_build_object('email', v_email, 'reason', v_reason, 'network', v_net::text),
                      CASE WHEN v_known THEN v_user.tenant_id END);
    IF v_fresh THEN
        PERFORM audit.log('login.lockout', 'user', CASE WHEN v_known THEN v_user.id::text END, NULL,
                          pg_catalog.jsonb_build_object('email', v_email, 'locked_until', v_locked,
                                                        'lockout_count', v_count, 'known', v_known,
                                                        'network', v_net::text),
                          CASE WHEN v_known THEN v_user.tenant_id END);
    END IF;
    IF v_known THEN
        PERFORM app.login_summarise(v_user.id);
    END IF;
    RETURN QUERY SELECT CASE WHEN v_known THEN v_user.id END, app.login_retry_seconds(v_locked), v_fresh;
END
$$;
COMMENT ON FUNCTION app.login_count_failure(text, text, inet) IS 'Internal: one failed attempt for an e-mail (known or not) from the client network of p_ip, under the lockout rules; audits p_action and login.lockout.';

-- app.login_lookup returns what sign-in needs to decide, or no row for an unknown e-mail.
-- locked_seconds is the lock on the caller's client network; it and checked_at come from the
-- database clock.
CREATE FUNCTION app.login_lookup(p_email text, p_ip inet)
    RETURNS TABLE (user_id bigint, tenant_id bigint, role text, password_hash text, is_active boolean,
                   locked_seconds integer, tenant_status text, trial_ends_at timestamptz,
                   tenant_slug text, tenant_name text, auth_version integer, checked_at timestamptz)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT u.id, u.tenant_id, u.role, u.password_hash, u.is_active,
           app.login_retry_seconds(app.login_locked_until(p_email, p_ip)),
           t.status, t.trial_ends_at, t.slug, t.name, u.auth_version, pg_catalog.now()
    FROM app.users u
    JOIN app.tenants t ON t.id = u.tenant_id
    WHERE u.email = pg_catalog.lower(pg_catalog.btrim(p_email))
$$;
COMMENT ON FUNCTION app.login_lookup(text, inet) IS 'Sign-in: the account behind an e-mail (with its bcrypt hash, its lock on the caller''s network and tenant status by the database clock), or no row.';

-- app.login_ip_blocked: seconds until the client may try again (0: allowed). 30 failures in a
-- 10-minute window block the client (an IPv4 address, an IPv6 /64) until the window ends.
CREATE OR REPLACE FUNCTION app.login_ip_blocked(p_ip inet)
    RETURNS integer
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT coalesce((
        SELECT app.login_retry_seconds(l.window_start + interval '10 minutes')
        FROM app.login_throttle l
        WHERE l.ip = app.login_client(p_ip)
          AND l.failures >= 30), 0)
$$;
COMMENT ON FUNCTION app.login_ip_blocked(inet) IS 'Seconds until a throttled client (IPv4 address or IPv6 /64) may try to sign in again; 0 when allowed (30 failures per 10 minutes, database clock).';

-- app.login_fail records a failed sign-in per client and per (e-mail, network) and answers how many
-- seconds the e-mail stays locked on the caller's network (0: not locked), the same way for known
-- and unknown e-mails.
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
        VALUES (app.login_client(p_ip), v_now, 1)
        ON CONFLICT (ip) DO UPDATE
        SET window_start = CASE WHEN l.window_start + interval '10 minutes' <= v_now THEN v_now ELSE l.window_start END,
            failures     = CASE WHEN l.window_start + interval '10 minutes' <= v_now THEN 1 ELSE l.failures + 1 END;
    END IF;

    RETURN QUERY SELECT f.retry_seconds, f.locked_now
                 FROM app.login_count_failure(p_email, 'login.failure', p_ip) AS f;
END
$$;
COMMENT ON FUNCTION app.login_fail(text, inet, text) IS 'Records a failed sign-in (per client, and per e-mail and client network, known e-mail or not), locks the e-mail on that network after 5 consecutive failures, audits login.failure / login.lockout; returns the seconds it stays locked there.';

-- app.login_succeed records a successful sign-in: the caller network's counters reset, last login
-- stamped, audited as the user who signed in. An account locked on the caller's network is left
-- untouched and the answer is the seconds it stays locked (0: signed in).
CREATE OR REPLACE FUNCTION app.login_succeed(p_user_id bigint, p_ip inet, p_user_agent text)
    RETURNS integer
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_tenant bigint;
    v_role   text;
    v_email  text;
    v_locked timestamptz;
BEGIN
    SELECT u.tenant_id, u.role, u.email INTO v_tenant, v_role, v_email
    FROM app.users u
    WHERE u.id = p_user_id AND u.is_active
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % cannot sign in', p_user_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    v_locked := app.login_locked_until(v_email, p_ip);
    IF v_locked IS NOT NULL THEN
        RETURN app.login_retry_seconds(v_locked);
    END IF;
    DELETE FROM app.login_failures f
    WHERE f.email_hash = app.login_email_hash(v_email) AND f.network = app.login_network(p_ip);
    UPDATE app.users
    SET last_login_at = pg_catalog.now(), last_login_ip = p_ip
    WHERE id = p_user_id;
    PERFORM app.login_summarise(p_user_id);
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
COMMENT ON FUNCTION app.login_succeed(bigint, inet, text) IS 'Records a successful sign-in (the caller network''s counters reset, last_login_at/ip, login.success); an account locked on the caller''s network is untouched and the seconds it stays locked are returned.';

-- app.user_own_password_check: the context user's bcrypt hash, to verify the current password,
-- and the seconds the account stays locked on the request's network (a locked account may not
-- try: the caller must refuse without comparing).
CREATE FUNCTION app.user_own_password_check()
    RETURNS TABLE (password_hash text, retry_seconds integer)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT u.password_hash,
           app.login_retry_seconds(app.login_locked_until(u.email, nullif(pg_catalog.current_setting('geniai.ip', true), '')::inet))
    FROM app.users u
    WHERE u.id = app.current_user_id() AND u.is_active
$$;
COMMENT ON FUNCTION app.user_own_password_check() IS 'bcrypt hash of the context user and the seconds its account stays locked on the request''s network (self-service password change); no row without a context user.';

-- app.user_own_password_fail counts a wrong current password on the password change page as a
-- failed attempt for the context user's account from the request's network (same lockout rules
-- as sign-in), audited as password.change_failed; returns the seconds it stays locked there.
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
    SELECT f.retry_seconds INTO v_retry
    FROM app.login_count_failure(v_email, 'password.change_failed',
                                 nullif(pg_catalog.current_setting('geniai.ip', true), '')::inet) AS f;
    RETURN v_retry;
END
$$;
COMMENT ON FUNCTION app.user_own_password_fail() IS 'Wrong current password on the password change page: a failed attempt for the context user''s account from the request''s network (lockout rules), audited as password.change_failed; returns the seconds it stays locked there.';

-- app.user_set_own_password replaces the context user's hash and bumps auth_version, which ends
-- every session carrying the old version. It changes nothing else (never the role), and refuses
-- while the account is locked on the request's network.
CREATE OR REPLACE FUNCTION app.user_set_own_password(p_hash text)
    RETURNS integer
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_uid     bigint := app.current_user_id();
    v_ip      inet := nullif(pg_catalog.current_setting('geniai.ip', true), '')::inet;
    v_version integer;
    v_tenant  bigint;
    v_email   text;
BEGIN
    IF v_uid IS NULL THEN
        RAISE EXCEPTION 'no user in the request context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT u.email INTO v_email FROM app.users u WHERE u.id = v_uid AND u.is_active FOR UPDATE;
    IF NOT FOUND OR app.login_locked_until(v_email, v_ip) IS NOT NULL THEN
        RAISE EXCEPTION 'user % not found, inactive or locked', v_uid USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM app.login_failures f
    WHERE f.email_hash = app.login_email_hash(v_email) AND f.network = app.login_network(v_ip);
    UPDATE app.users
    SET password_hash = p_hash, auth_version = auth_version + 1
    WHERE id = v_uid
    RETURNING auth_version, tenant_id INTO v_version, v_tenant;
    PERFORM app.login_summarise(v_uid);
    PERFORM audit.log('password.change', 'user', v_uid::text, NULL,
                      pg_catalog.jsonb_build_object('auth_version', v_version), v_tenant);
    RETURN v_version;
END
$$;
COMMENT ON FUNCTION app.user_set_own_password(text) IS 'Self-service password change for the context user (not while locked on the request''s network): new hash, auth_version + 1 (other sessions end), audited as password.change.';

-- app.login_unlock (super_admin): lifts every lock of a user's e-mail on every network and
-- forgets its failures; audited as user.unlock. No row when the user does not exist.
CREATE FUNCTION app.login_unlock(p_user_id bigint)
    RETURNS SETOF bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_user record;
    v_n    integer;
BEGIN
    IF app.current_app_role() IS DISTINCT FROM 'super_admin' THEN
        RAISE EXCEPTION 'only super_admin may unlock accounts' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT u.id, u.tenant_id, u.email INTO v_user FROM app.users u WHERE u.id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    DELETE FROM app.login_failures f WHERE f.email_hash = app.login_email_hash(v_user.email);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    UPDATE app.users u SET failed_attempts = 0, locked_until = NULL, lockout_count = 0 WHERE u.id = v_user.id;
    PERFORM audit.log('user.unlock', 'user', v_user.id::text, NULL,
                      pg_catalog.jsonb_build_object('email', v_user.email, 'networks_cleared', v_n), v_user.tenant_id);
    RETURN NEXT v_user.id;
END
$$;
COMMENT ON FUNCTION app.login_unlock(bigint) IS 'super_admin: lifts every network lock of a user''s e-mail and forgets its failures; audited as user.unlock.';

-- app.login_watch (staff): accounts with failed sign-ins in the last 24 hours, most alarming
-- first: how many networks they came from, how many are locked now, and whether they look like
-- an attack (3 or more networks, or 20 failures).
CREATE FUNCTION app.login_watch(p_limit integer)
    RETURNS TABLE (user_id bigint, tenant_id bigint, email text, failures integer, networks integer,
                   locked_networks integer, locked_until timestamptz, last_failure_at timestamptz,
                   attacked boolean, network_list text[])
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
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
$$;
COMMENT ON FUNCTION app.login_watch(integer) IS 'Staff: accounts locked on some network or under attack (3+ networks or 20 failures in 24 hours), most alarming first.';

-- The per-e-mail table is replaced by app.login_failures (its rows had no network).
-- squawk-ignore ban-drop-table
DROP TABLE app.login_email_throttle;

REVOKE ALL ON FUNCTION app.login_network(inet), app.login_client(inet), app.login_email_hash(text),
    app.login_locked_until(text, inet), app.login_summarise(bigint),
    app.login_count_failure(text, text, inet), app.login_lookup(text, inet), app.login_fail(text, inet, text),
    app.user_own_password_check(), app.user_own_password_fail(), app.login_unlock(bigint),
    app.login_watch(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.login_lookup(text, inet), app.login_fail(text, inet, text) TO geniai_anon;
GRANT EXECUTE ON FUNCTION app.user_own_password_check(), app.user_own_password_fail() TO geniai_tenant, geniai_staff;
GRANT EXECUTE ON FUNCTION app.login_unlock(bigint), app.login_watch(integer) TO geniai_staff;

---- create above / drop below ----

-- The old per-e-mail rules, as migration 008 defined them.
CREATE TABLE app.login_email_throttle (
    email_hash      bytea       PRIMARY KEY CHECK (pg_catalog.length(email_hash) = 32),
    failed_attempts integer     NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until    timestamptz,
    lockout_count   integer     NOT NULL DEFAULT 0 CHECK (lockout_count >= 0),
    last_failure_at timestamptz NOT NULL
);
CREATE INDEX login_email_throttle_last_failure_idx ON app.login_email_throttle (last_failure_at);
ALTER TABLE app.login_email_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.login_email_throttle FORCE ROW LEVEL SECURITY;
CREATE POLICY login_email_throttle_owner_all ON app.login_email_throttle FOR ALL TO geniai_owner
    USING (true) WITH CHECK (true);
REVOKE ALL ON app.login_email_throttle FROM PUBLIC;
DROP FUNCTION app.login_watch(integer);
DROP FUNCTION app.login_unlock(bigint);
DROP FUNCTION app.user_own_password_fail();
DROP FUNCTION app.user_own_password_check();
DROP FUNCTION app.login_fail(text, inet, text);
DROP FUNCTION app.login_lookup(text, inet);
DROP FUNCTION app.login_count_failure(text, text, inet);
DROP FUNCTION app.login_locked_until(text, inet);
DROP FUNCTION app.login_email_hash(text);
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
CREATE OR REPLACE FUNCTION app.login_ip_blocked(p_ip inet)
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
CREATE OR REPLACE FUNCTION app.login_succeed(p_user_id bigint, p_ip inet, p_user_agent text)
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
CREATE OR REPLACE FUNCTION app.user_set_own_password(p_hash text)
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

REVOKE ALL ON FUNCTION app.login_count_failure(text, text), app.login_lookup(text), app.login_fail(text, inet, text),
    app.user_own_password_check(), app.user_own_password_fail() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.login_lookup(text), app.login_fail(text, inet, text) TO geniai_anon;
GRANT EXECUTE ON FUNCTION app.user_own_password_check(), app.user_own_password_fail() TO geniai_tenant, geniai_staff;
DROP FUNCTION app.login_summarise(bigint);
ALTER TABLE app.users DROP COLUMN login_alert_at;
DROP TABLE app.login_failures;
DROP FUNCTION app.login_client(inet);
DROP FUNCTION app.login_network(inet);
