-- Browser sessions, hashed and listed.
--
-- The session store (public.sessions) now keys each session by the SHA-256 of its token (scs
-- hashes it, base64url), so a read of the table (a backup, a replica, a log) holds no usable
-- token. Its data stays encoded for scs; beside it, app.user_sessions keeps what a person needs to
-- recognise their sessions (when, from where, which browser) and what the per-request check
-- needs: the session's auth_version, its absolute expiry and its last activity, recorded at most
-- once a minute. A session is alive while its row exists, its auth_version is the user's, it has
-- not expired and its last recorded activity is within the idle timeout; a user ends any of their
-- sessions by deleting both rows (app.session_end), never another user's.
--
-- The tokens stored so far are in clear: they are deleted, and everybody signs in again.

DELETE FROM public.sessions;
COMMENT ON TABLE public.sessions IS 'scs/pgxstore session store: token (base64url SHA-256 of the cookie''s token), gob-encoded data, absolute expiry. Expired rows are purged by pgxstore; app.user_sessions says which are alive.';

-- A user's rows, not a tenant's: no tenant_id (a tenant admin or staff member sees no one's
-- sessions but their own), reached through user_id like app.login_failures through its hash.
CREATE TABLE app.user_sessions (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
    token_hash   text        NOT NULL UNIQUE,
    auth_version integer     NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ip           inet,
    user_agent   text        NOT NULL DEFAULT '' CHECK (length(user_agent) <= 500)
);
COMMENT ON TABLE app.user_sessions IS 'One row per signed-in browser session: what its user sees on the account page and what the per-request check reads. Written only by the app.session_* functions.';
COMMENT ON COLUMN app.user_sessions.token_hash IS 'The session''s key in public.sessions (base64url SHA-256 of the token). Never readable by an application role.';
COMMENT ON COLUMN app.user_sessions.auth_version IS 'app.users.auth_version when the session started (or last renewed its token); another value ends it.';
COMMENT ON COLUMN app.user_sessions.last_seen_at IS 'Last recorded activity, written at most once a minute; the idle timeout counts from it.';
COMMENT ON COLUMN app.user_sessions.expires_at IS 'Absolute end of the session (SESSION_LIFETIME after sign-in).';
CREATE INDEX user_sessions_user_idx ON app.user_sessions (user_id);
CREATE INDEX user_sessions_expires_idx ON app.user_sessions (expires_at);
ALTER TABLE app.user_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.user_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY user_sessions_own_read ON app.user_sessions FOR SELECT TO geniai_tenant, geniai_staff
    USING (user_id = (SELECT app.current_user_id()));
CREATE POLICY user_sessions_owner_all ON app.user_sessions FOR ALL TO geniai_owner
    USING (true) WITH CHECK (true);
REVOKE ALL ON app.user_sessions FROM PUBLIC;
GRANT SELECT (id, user_id, auth_version, created_at, last_seen_at, expires_at, ip, user_agent)
    ON app.user_sessions TO geniai_tenant, geniai_staff;

-- app.session_start records the session a sign-in just created, for the context user (the one
-- who signed in), and prunes rows of sessions that ended on their own.
CREATE FUNCTION app.session_start(p_token_hash text, p_lifetime_seconds integer, p_ip inet, p_user_agent text)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_user record;
    v_id   bigint;
BEGIN
    SELECT u.id, u.tenant_id, u.auth_version INTO v_user
    FROM app.users u
    WHERE u.id = app.current_user_id() AND u.tenant_id = app.current_tenant_id() AND u.is_active;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no active user in the request context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_lifetime_seconds IS NULL OR p_lifetime_seconds <= 0 THEN
        RAISE EXCEPTION 'a session needs a positive lifetime' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM app.user_sessions s
    WHERE s.id IN (SELECT x.id FROM app.user_sessions x
                                  WHERE x.expires_at < pg_catalog.now()
                                  ORDER BY x.expires_at LIMIT 100
                                  FOR UPDATE SKIP LOCKED);
    INSERT INTO app.user_sessions (user_id, token_hash, auth_version, expires_at, ip, user_agent)
    VALUES (v_user.id, p_token_hash, v_user.auth_version,
            pg_catalog.now() + pg_catalog.make_interval(secs => p_lifetime_seconds),
            p_ip, pg_catalog.left(coalesce(p_user_agent, ''), 500))
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION app.session_start(text, integer, inet, text) IS 'Records a new session of the context user (its store key, lifetime from the database clock, IP, browser); prunes expired session rows.';

-- app.session_check is the per-request check of a signed-in session, for the context user: the
-- principal (app.principal_check), allowed only when the session is alive too (its row exists,
-- carries the user's auth_version, has not expired, and was active within p_idle_seconds), and
-- whether its activity is due to be recorded (older than a minute).
CREATE FUNCTION app.session_check(p_user_id bigint, p_auth_version integer, p_token_hash text, p_idle_seconds integer)
    RETURNS TABLE (user_id bigint, tenant_id bigint, email text, full_name text, role text,
                   is_active boolean, auth_version integer, tenant_status text,
                   trial_ends_at timestamptz, tenant_slug text, tenant_name text,
                   is_platform boolean, allowed boolean, session_id bigint, touch_due boolean)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT c.user_id, c.tenant_id, c.email, c.full_name, c.role, c.is_active, c.auth_version,
           c.tenant_status, c.trial_ends_at, c.tenant_slug, c.tenant_name, c.is_platform,
           coalesce(c.allowed, false)
           AND s.id IS NOT NULL
           AND s.auth_version = p_auth_version
           AND s.expires_at > pg_catalog.now()
           AND s.last_seen_at > pg_catalog.now() - pg_catalog.make_interval(secs => p_idle_seconds),
           s.id,
           coalesce(s.last_seen_at <= pg_catalog.now() - interval '1 minute', false)
    FROM app.principal_check(p_user_id, p_auth_version) AS c
    LEFT JOIN app.user_sessions s ON s.token_hash = p_token_hash AND s.user_id = c.user_id
$$;
COMMENT ON FUNCTION app.session_check(bigint, integer, text, integer) IS 'Per-request check of a signed-in session: the principal, allowed only while the session row is alive (auth_version, absolute expiry, idle timeout by the database clock), and whether its activity is due to be recorded.';

-- app.session_touch records the context user's activity on a session, at most once a minute.
CREATE FUNCTION app.session_touch(p_token_hash text, p_ip inet, p_user_agent text)
    RETURNS void
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    UPDATE app.user_sessions s
    SET last_seen_at = pg_catalog.now(), ip = coalesce(p_ip, s.ip),
        user_agent = pg_catalog.left(coalesce(p_user_agent, s.user_agent), 500)
    WHERE s.token_hash = p_token_hash AND s.user_id = app.current_user_id()
      AND s.last_seen_at <= pg_catalog.now() - interval '1 minute'
$$;
COMMENT ON FUNCTION app.session_touch(text, inet, text) IS 'Records activity (time, IP, browser) on a session of the context user, at most once a minute.';

-- app.session_rotate follows a session to its new token (a sign-in renews it, so does a password
-- change, which also moves the user's auth_version: the session keeps up with it).
CREATE FUNCTION app.session_rotate(p_old_hash text, p_new_hash text)
    RETURNS boolean
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH r AS (
        UPDATE app.user_sessions s
        SET token_hash = p_new_hash, auth_version = u.auth_version, last_seen_at = pg_catalog.now()
        FROM app.users u
        WHERE s.token_hash = p_old_hash AND s.user_id = app.current_user_id() AND u.id = s.user_id
        RETURNING s.id)
    SELECT EXISTS (SELECT FROM r)
$$;
COMMENT ON FUNCTION app.session_rotate(text, text) IS 'Moves a session of the context user to its renewed token and the user''s current auth_version.';

-- app.session_list: the context user's live sessions, most recent first, the caller's own marked.
CREATE FUNCTION app.session_list(p_current_hash text, p_idle_seconds integer)
    RETURNS TABLE (id bigint, created_at timestamptz, last_seen_at timestamptz, expires_at timestamptz,
                   ip inet, user_agent text, is_current boolean)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT s.id, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent, s.token_hash = p_current_hash
    FROM app.user_sessions s
    JOIN app.users u ON u.id = s.user_id
    WHERE s.user_id = app.current_user_id()
      AND u.tenant_id = app.current_tenant_id()
      AND s.auth_version = u.auth_version
      AND s.expires_at > pg_catalog.now()
      AND s.last_seen_at > pg_catalog.now() - pg_catalog.make_interval(secs => p_idle_seconds)
    ORDER BY s.token_hash = p_current_hash DESC, s.last_seen_at DESC, s.id DESC
$$;
COMMENT ON FUNCTION app.session_list(text, integer) IS 'The context user''s live sessions (when, from where, which browser), the current one first and marked.';

-- app.session_end ends sessions of the context user: one by id, or (p_id NULL) every one but the
-- session whose store key is p_keep_hash. Both rows go (the store's and the list's), so the
-- browser holding it is signed out at its next request. Audited; returns how many ended.
CREATE FUNCTION app.session_end(p_id bigint, p_keep_hash text)
    RETURNS integer
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_uid    bigint := app.current_user_id();
    v_tenant bigint := app.current_tenant_id();
    v_ended  jsonb;
    v_n      integer;
BEGIN
    IF v_uid IS NULL THEN
        RAISE EXCEPTION 'no user in the request context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    WITH gone AS (
        DELETE FROM app.user_sessions s
        WHERE s.user_id = v_uid
          AND (s.id = p_id OR (p_id IS NULL AND s.token_hash IS DISTINCT FROM p_keep_hash))
        RETURNING s.id, s.token_hash, s.ip, s.user_agent),
    store AS (
        DELETE FROM public.sessions ps WHERE ps.token IN (SELECT g.token_hash FROM gone g))
    SELECT count(*)::integer,
           pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('session_id', g.id, 'ip', pg_catalog.host(g.ip),
                                                              'user_agent', g.user_agent) ORDER BY g.id)
    INTO v_n, v_ended
    FROM gone g;
    IF v_n > 0 THEN
        PERFORM audit.log(CASE WHEN p_id IS NULL THEN 'session.end_others' ELSE 'session.end' END,
                          'user', v_uid::text, NULL, pg_catalog.jsonb_build_object('sessions', v_ended), v_tenant);
    END IF;
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION app.session_end(bigint, text) IS 'Ends a session of the context user by id, or all but the one keyed p_keep_hash (p_id NULL): store and list rows deleted, audited as session.end / session.end_others.';

-- app.session_logout forgets the list row of the session a user signs out of (scs deletes the
-- store row itself).
CREATE FUNCTION app.session_logout(p_token_hash text)
    RETURNS void
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    DELETE FROM app.user_sessions s WHERE s.token_hash = p_token_hash AND s.user_id = app.current_user_id()
$$;
COMMENT ON FUNCTION app.session_logout(text) IS 'Forgets the context user''s session keyed p_token_hash (sign-out).';

REVOKE ALL ON FUNCTION app.session_start(text, integer, inet, text), app.session_check(bigint, integer, text, integer),
    app.session_touch(text, inet, text), app.session_rotate(text, text), app.session_list(text, integer),
    app.session_end(bigint, text), app.session_logout(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.session_start(text, integer, inet, text), app.session_check(bigint, integer, text, integer),
    app.session_touch(text, inet, text), app.session_rotate(text, text), app.session_list(text, integer),
    app.session_end(bigint, text), app.session_logout(text) TO geniai_tenant, geniai_staff;

---- create above / drop below ----

DROP FUNCTION app.session_logout(text);
DROP FUNCTION app.session_end(bigint, text);
DROP FUNCTION app.session_list(text, integer);
DROP FUNCTION app.session_rotate(text, text);
DROP FUNCTION app.session_touch(text, inet, text);
DROP FUNCTION app.session_check(bigint, integer, text, integer);
DROP FUNCTION app.session_start(text, integer, inet, text);
DROP TABLE app.user_sessions;
DELETE FROM public.sessions;
COMMENT ON TABLE public.sessions IS 'scs/pgxstore session store: token, gob-encoded data, expiry. Expired rows are purged by pgxstore.';
