-- name: SessionStart :one
-- SessionStart records the session a sign-in created, for the context user.
SELECT app.session_start(@token_hash::text, @lifetime_seconds::integer, nullif(@ip::text, '')::inet, @user_agent::text)::bigint AS id;

-- name: SessionCheck :one
-- SessionCheck re-validates the context user and their session on every request: allowed only
-- while the user may sign in and the session is alive (auth_version, absolute expiry, idle
-- timeout, all by the database clock); touch_due says its activity should be recorded, refusal
-- why the account may no longer sign in (app.sign_in_refusal; "" when it may).
SELECT c.user_id::bigint AS user_id,
       c.tenant_id::bigint AS tenant_id,
       c.email::text AS email,
       c.full_name::text AS full_name,
       c.role::text AS role,
       c.is_active::boolean AS is_active,
       c.auth_version::integer AS auth_version,
       c.tenant_status::text AS tenant_status,
       coalesce(c.trial_ends_at, 'epoch'::timestamptz)::timestamptz AS trial_ends_at,
       c.tenant_slug::text AS tenant_slug,
       c.tenant_name::text AS tenant_name,
       c.is_platform::boolean AS is_platform,
       coalesce(c.allowed, false)::boolean AS allowed,
       coalesce(c.session_id, 0)::bigint AS session_id,
       coalesce(c.touch_due, false)::boolean AS touch_due,
       coalesce(app.sign_in_refusal(c.is_active, c.tenant_status, c.trial_ends_at), '')::text AS refusal
FROM app.session_check(@user_id::bigint, @auth_version::integer, @token_hash::text, @idle_seconds::integer) AS c;

-- name: SessionTouch :exec
-- SessionTouch records activity on a session of the context user (at most once a minute).
SELECT app.session_touch(@token_hash::text, nullif(@ip::text, '')::inet, @user_agent::text);

-- name: SessionRotate :one
-- SessionRotate moves a session of the context user to its renewed token.
SELECT app.session_rotate(@old_hash::text, @new_hash::text)::boolean AS rotated;

-- name: SessionList :many
-- SessionList is the context user's live sessions, the current one first.
SELECT l.id::bigint AS id, l.created_at::timestamptz AS created_at, l.last_seen_at::timestamptz AS last_seen_at,
       l.expires_at::timestamptz AS expires_at, coalesce(host(l.ip), '')::text AS ip,
       l.user_agent::text AS user_agent, l.is_current::boolean AS is_current
FROM app.session_list(@current_hash::text, @idle_seconds::integer) AS l;

-- name: SessionEnd :one
-- SessionEnd ends one session of the context user by id, or (id NULL) all but the one keyed
-- keep_hash; returns how many ended.
SELECT app.session_end(sqlc.narg('id')::bigint, @keep_hash::text)::integer AS ended;

-- name: SessionLogout :exec
-- SessionLogout forgets the listed session the context user signs out of.
SELECT app.session_logout(@token_hash::text);
