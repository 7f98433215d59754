-- name: LoginLookup :one
-- LoginLookup returns the account behind an e-mail for sign-in (anon only); no row when unknown.
-- locked_seconds (0: not locked) is the lock on the caller's client network, by the database
-- clock; refusal is app.sign_in_refusal ('': the account may sign in).
SELECT l.user_id::bigint AS user_id,
       l.tenant_id::bigint AS tenant_id,
       l.role::text AS role,
       l.password_hash::text AS password_hash,
       l.locked_seconds::integer AS locked_seconds,
       coalesce(l.refusal, '')::text AS refusal,
       l.tenant_slug::text AS tenant_slug,
       l.tenant_name::text AS tenant_name,
       l.auth_version::integer AS auth_version
FROM app.login_lookup(@email::text, nullif(@ip::text, '')::inet) AS l;

-- name: LoginIPBlocked :one
-- LoginIPBlocked is the number of seconds until a throttled IP may try again (0: allowed).
SELECT app.login_ip_blocked(nullif(@ip::text, '')::inet)::integer AS retry_seconds;

-- name: LoginFail :one
-- LoginFail records a failed sign-in and reports for how many seconds the e-mail is locked (0: not).
SELECT f.retry_seconds::integer AS retry_seconds,
       f.locked_now::boolean AS locked_now
FROM app.login_fail(@email::text, nullif(@ip::text, '')::inet, @user_agent::text) AS f;

-- name: LoginSucceed :one
-- LoginSucceed resets the failure counters, stamps the last login and audits login.success; on a
-- locked account it changes nothing and returns the seconds it stays locked (0: signed in).
SELECT app.login_succeed(@user_id::bigint, nullif(@ip::text, '')::inet, @user_agent::text)::integer AS retry_seconds;

-- name: PrincipalCheck :one
-- PrincipalCheck re-validates the context user on every request; no row when the user is gone
-- or is not the context user.
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
       coalesce(c.allowed, false)::boolean AS allowed
FROM app.principal_check(@user_id::bigint, @auth_version::integer) AS c;

-- name: UserOwnPasswordCheck :one
-- UserOwnPasswordCheck is the context user's bcrypt hash, to verify the current password, and the
-- seconds the account stays locked (0: not locked; while locked, do not compare).
SELECT c.password_hash::text AS password_hash,
       c.retry_seconds::integer AS retry_seconds
FROM app.user_own_password_check() AS c;

-- name: UserOwnPasswordFail :one
-- UserOwnPasswordFail counts a wrong current password as a failed attempt for the context user
-- (lockout rules, audited as password.change_failed); returns the seconds the account is locked.
SELECT app.user_own_password_fail()::integer AS retry_seconds;

-- name: UserSetOwnPassword :one
-- UserSetOwnPassword sets the context user's password hash and returns the new auth_version.
SELECT app.user_set_own_password(@password_hash::text)::integer AS auth_version;

-- name: AuditEvent :one
-- AuditEvent appends an audit event for the context actor (ip and user agent from the context).
SELECT audit.log(@action::text, @entity::text, @entity_id::text, NULL::jsonb,
                 sqlc.narg('details')::jsonb)::bigint AS id;

-- name: TenantBranding :one
-- TenantBranding is the display name, colours and logo address of the context tenant.
SELECT s.display_name, s.primary_color, s.secondary_color, s.logo_url
FROM app.tenant_settings s
WHERE s.tenant_id = app.current_tenant_id();

-- name: TenantCount :one
-- TenantCount counts the client tenants visible to the context (staff: all).
SELECT count(*)::integer AS tenants
FROM app.tenants
WHERE NOT is_platform;
