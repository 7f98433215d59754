-- Invitations and password resets: the SQL functions decide; these are their calls, plus the
-- lists the settings and admin pages show.

-- name: MailBrandOf :one
-- MailBrandOf is a tenant's name and colours for its e-mails (as the caller sees the tenant).
SELECT coalesce(nullif(s.display_name, ''), t.name)::text AS name, s.primary_color, s.secondary_color,
       coalesce(s.logo_url, '')::text AS logo_url, t.timezone
FROM app.tenants t
JOIN app.tenant_settings s ON s.tenant_id = t.id
WHERE t.id = @tenant_id;

-- name: InvitationCreate :one
-- InvitationCreate records an invitation and queues its rendered e-mail (held, unsent, when the
-- address has an account in another tenant). Returns the invitation id.
SELECT app.invitation_create(@tenant_id::bigint, @email::text, @full_name::text, @role::text, @language::text,
                             @token_hash::bytea, @subject::text, @text_body::text, @html_body::text,
                             @message_id::text)::bigint AS id;

-- name: InvitationGet :one
-- InvitationGet reads a pending invitation of a tenant (the caller's view).
SELECT id, email, full_name, role, language, expires_at
FROM app.invitations
WHERE tenant_id = @tenant_id AND id = @id AND accepted_at IS NULL AND revoked_at IS NULL;

-- name: InvitationResend :one
-- InvitationResend gives a pending invitation a new token and 24 hours and queues the e-mail again.
SELECT app.invitation_resend(@tenant_id::bigint, @id::bigint, @token_hash::bytea, @subject::text,
                             @text_body::text, @html_body::text, @message_id::text)::boolean AS ok;

-- name: InvitationRevoke :one
-- InvitationRevoke withdraws a pending invitation.
SELECT app.invitation_revoke(@tenant_id::bigint, @id::bigint)::boolean AS ok;

-- name: InvitationLookup :one
-- InvitationLookup is what the set-password page shows for a token hash (anonymous).
SELECT l.state::text AS state, l.email::text AS email, l.full_name::text AS full_name,
       l.tenant_name::text AS tenant_name, l.language::text AS language
FROM app.invitation_lookup(@token_hash::bytea) AS l;

-- name: InvitationAccept :one
-- InvitationAccept creates the account of a valid invitation (anonymous).
SELECT a.user_id::bigint AS user_id, a.email::text AS email
FROM app.invitation_accept(@token_hash::bytea, @password_hash::text) AS a;

-- name: InvitationsPending :many
-- InvitationsPending lists a tenant's invitations not yet accepted nor revoked (tenant admin or staff).
SELECT id, email, full_name, role, language, created_at, expires_at
FROM app.invitations
WHERE tenant_id = @tenant_id AND accepted_at IS NULL AND revoked_at IS NULL
ORDER BY created_at DESC, id DESC;

-- name: InvitationsStaffSearch :many
-- InvitationsStaffSearch lists pending invitations across tenants for staff, held ones first,
-- optionally of one address.
SELECT i.tenant_id, t.slug AS tenant_slug, t.name AS tenant_name, i.id, i.email, i.role, i.created_at,
       i.expires_at, i.held
FROM app.invitations i
JOIN app.tenants t ON t.id = i.tenant_id
WHERE i.accepted_at IS NULL AND i.revoked_at IS NULL
  AND (sqlc.narg('email')::text IS NULL OR i.email = sqlc.narg('email')::text)
ORDER BY i.held DESC, i.created_at DESC
LIMIT 200;

-- name: UserReleaseEmail :one
-- UserReleaseEmail frees a squatted address (staff): the account is deactivated, its sessions end
-- and its e-mail becomes released+<id>@invalid.example, so a held invitation can go out.
UPDATE app.users
SET email = 'released+' || id || '@invalid.example', is_active = false, auth_version = auth_version + 1
WHERE id = @id
RETURNING id, tenant_id, email;

-- name: PasswordResetRequest :one
-- PasswordResetRequest throttles and records one "Esqueci minha senha" request (anonymous).
SELECT r.outcome::text AS outcome, r.retry_seconds::integer AS retry_seconds,
       coalesce(r.user_id, 0)::bigint AS user_id, coalesce(r.email, '')::text AS email,
       coalesce(r.full_name, '')::text AS full_name, coalesce(r.language, 'pt-BR')::text AS language,
       coalesce(r.tenant_name, '')::text AS tenant_name, coalesce(r.primary_color, '')::text AS primary_color,
       coalesce(r.secondary_color, '')::text AS secondary_color, coalesce(r.logo_url, '')::text AS logo_url
FROM app.password_reset_request(@email::text, nullif(@ip::text, '')::inet, @token_hash::bytea) AS r;

-- name: PasswordResetMail :one
-- PasswordResetMail queues the e-mail of the reset just requested (once per link).
SELECT app.password_reset_mail(@token_hash::bytea, @subject::text, @text_body::text, @html_body::text,
                               @message_id::text)::boolean AS queued;

-- name: PasswordResetLookup :one
-- PasswordResetLookup tells whether a reset link is still valid (anonymous).
SELECT l.valid::boolean AS valid, l.email::text AS email, l.language::text AS language
FROM app.password_reset_lookup(@token_hash::bytea) AS l;

-- name: PasswordResetComplete :one
-- PasswordResetComplete sets the new password through a valid reset link (anonymous).
SELECT c.user_id::bigint AS user_id, c.email::text AS email
FROM app.password_reset_complete(@token_hash::bytea, @password_hash::text) AS c;

-- name: UserHoldingEmail :one
-- UserHoldingEmail is the account that holds an address, with its tenant (staff).
SELECT u.id, u.tenant_id, t.slug AS tenant_slug, t.name AS tenant_name, u.email, u.is_active, u.last_login_at, u.created_at
FROM app.users u
JOIN app.tenants t ON t.id = u.tenant_id
WHERE u.email = @email;

-- name: PasswordResetIssue :one
-- PasswordResetIssue stores a reset link sent for someone by staff or their tenant admin; no row
-- when the caller may not manage the user, refusal when the account could not sign in.
SELECT coalesce(r.refusal, '')::text AS refusal, r.email::text AS email, r.full_name::text AS full_name,
       r.language::text AS language, r.tenant_name::text AS tenant_name,
       coalesce(r.primary_color, '')::text AS primary_color, coalesce(r.secondary_color, '')::text AS secondary_color,
       coalesce(r.logo_url, '')::text AS logo_url, coalesce(r.expires_at, now())::timestamptz AS expires_at
FROM app.password_reset_issue(@user_id::bigint, @token_hash::bytea) AS r;
