-- Staff queries (the admin panel and the geniai CLI share them). They run as geniai_staff: RLS
-- lets staff read every tenant and only super_admin write.

-- name: AdminTenantOverview :many
-- AdminTenantOverview is one row per client tenant: status, size, activity in the last 30 days
-- against the 30 before, and ETL health.
SELECT t.id, t.slug, t.name, t.status, t.plan, t.trial_ends_at, t.timezone, t.created_at,
       (SELECT count(*) FROM app.tenant_inboxes i WHERE i.tenant_id = t.id)::integer AS inboxes,
       (SELECT count(*) FROM app.users u WHERE u.tenant_id = t.id AND u.is_active)::integer AS users,
       coalesce(s.conversations, 0)::bigint AS conversations_30d,
       coalesce(s.leads, 0)::bigint AS leads_30d,
       coalesce(s.prev_conversations, 0)::bigint AS conversations_prev_30d,
       coalesce(s.prev_leads, 0)::bigint AS leads_prev_30d,
       w.last_success_at,
       coalesce(r.status, '')::text AS last_run_status,
       coalesce(r.error, '')::text AS last_run_error
FROM app.tenants t
LEFT JOIN LATERAL (
    SELECT sum(d.conversations) FILTER (WHERE d.day > sqlc.arg('today')::date - 30) AS conversations,
           sum(d.leads) FILTER (WHERE d.day > sqlc.arg('today')::date - 30) AS leads,
           sum(d.conversations) FILTER (WHERE d.day <= sqlc.arg('today')::date - 30) AS prev_conversations,
           sum(d.leads) FILTER (WHERE d.day <= sqlc.arg('today')::date - 30) AS prev_leads
    FROM analytics.tenant_daily_stats d
    WHERE d.tenant_id = t.id AND d.day > sqlc.arg('today')::date - 60 AND d.day <= sqlc.arg('today')::date
) s ON true
LEFT JOIN etl.watermarks w ON w.tenant_id = t.id
LEFT JOIN LATERAL (
    SELECT rr.status, rr.started_at, rr.error
    FROM etl.runs rr
    WHERE rr.tenant_id = t.id
    ORDER BY rr.started_at DESC, rr.id DESC
    LIMIT 1
) r ON true
WHERE NOT t.is_platform
ORDER BY t.name, t.id;

-- name: AdminTenantUpdate :one
-- AdminTenantUpdate changes a tenant's name, status, plan, trial end and timezone.
UPDATE app.tenants
SET name = @name, status = @status, plan = @plan, trial_ends_at = sqlc.narg('trial_ends_at'), timezone = @timezone
WHERE id = @id AND NOT is_platform
RETURNING id, slug, name, status, trial_ends_at, plan, timezone, is_platform, created_at, updated_at;

-- name: AdminTenantInboxRemove :execrows
-- AdminTenantInboxRemove unmaps an inbox from a tenant; its data leaves at the next sync.
DELETE FROM app.tenant_inboxes WHERE tenant_id = @tenant_id AND inbox_id = @inbox_id;

-- name: SettingsGet :one
-- SettingsGet reads a tenant's branding, defaults, funnel rules, SLA target and lead exclusion labels.
SELECT tenant_id, display_name, logo_url, primary_color, secondary_color, default_period_days,
       lead_labels, lead_regex, lead_any_message, visit_labels, visit_regex, converted_labels,
       converted_regex, rules_version, updated_at, sla_seconds, lead_exclusion_labels
FROM app.tenant_settings
WHERE tenant_id = @tenant_id;

-- name: SettingsUpdateBranding :one
-- SettingsUpdateBranding changes display name, logo and colours and the default period.
UPDATE app.tenant_settings
SET display_name = @display_name, logo_url = sqlc.narg('logo_url'), primary_color = @primary_color,
    secondary_color = @secondary_color, default_period_days = @default_period_days
WHERE tenant_id = @tenant_id
RETURNING tenant_id;

-- name: SettingsUpdateFunnel :one
-- SettingsUpdateFunnel changes the funnel rules, the lead exclusion labels and the SLA target; a
-- trigger bumps rules_version so the next ETL run re-applies them to the whole history.
UPDATE app.tenant_settings
SET lead_any_message = @lead_any_message, lead_labels = @lead_labels, lead_regex = sqlc.narg('lead_regex'),
    visit_labels = @visit_labels, visit_regex = sqlc.narg('visit_regex'),
    converted_labels = @converted_labels, converted_regex = sqlc.narg('converted_regex'),
    lead_exclusion_labels = @lead_exclusion_labels, sla_seconds = @sla_seconds
WHERE tenant_id = @tenant_id
RETURNING tenant_id, rules_version;

-- name: TenantTimezoneSet :one
-- TenantTimezoneSet changes the timezone days and hours are computed in, through the function
-- that lets the tenant's own admin (or a super_admin) do it and no one else; no row when there
-- is no such client tenant.
SELECT s.id::bigint AS id
FROM app.tenant_set_timezone(@id::bigint, @timezone::text) AS s(id)
WHERE s.id IS NOT NULL;

-- name: UserSearch :many
-- UserSearch lists users across tenants by email, name or tenant, newest sign-in first.
SELECT u.id, u.tenant_id, t.slug AS tenant_slug, t.name AS tenant_name, u.email, u.full_name, u.role,
       u.is_active, u.last_login_at, u.locked_until, u.failed_attempts, u.created_at
FROM app.users u
JOIN app.tenants t ON t.id = u.tenant_id
WHERE (sqlc.narg('tenant_id')::bigint IS NULL OR u.tenant_id = sqlc.narg('tenant_id'))
  AND (sqlc.narg('q')::text IS NULL
       OR u.email ILIKE '%' || analytics.like_escape(sqlc.narg('q')) || '%'
       OR u.full_name ILIKE '%' || analytics.like_escape(sqlc.narg('q')) || '%'
       OR t.slug ILIKE '%' || analytics.like_escape(sqlc.narg('q')) || '%')
ORDER BY t.is_platform DESC, t.name, u.email
LIMIT @max_rows;

-- name: UserGet :one
-- UserGet reads one user visible to the context.
SELECT u.id, u.tenant_id, u.email, u.full_name, u.role, u.is_active, u.last_login_at, u.locked_until,
       u.failed_attempts, u.auth_version, u.created_at
FROM app.users u
WHERE u.id = @id;

-- name: UserUpdate :one
-- UserUpdate changes name, role and active flag; deactivation bumps auth_version so the user's
-- sessions end at their next request.
UPDATE app.users
SET full_name = @full_name, role = @role, is_active = @is_active,
    auth_version = auth_version + CASE WHEN is_active AND NOT @is_active::boolean THEN 1 ELSE 0 END
WHERE id = @id
RETURNING id, tenant_id, email, full_name, role, is_active, auth_version;

-- name: UserUnlock :one
-- UserUnlock lifts every network lock of the user and forgets its failures (super_admin, audited);
-- no row when the user does not exist.
SELECT u::bigint AS id FROM app.login_unlock(@id::bigint) AS u;

-- name: LoginWatch :many
-- LoginWatch lists accounts locked on some client network or under attack (staff), most
-- alarming first; locked_until is the epoch when no lock is in force.
SELECT w.user_id::bigint AS user_id, w.tenant_id::bigint AS tenant_id, t.slug AS tenant_slug,
       w.email::text AS email, w.failures::integer AS failures, w.networks::integer AS networks,
       w.locked_networks::integer AS locked_networks,
       coalesce(w.locked_until, 'epoch'::timestamptz)::timestamptz AS locked_until,
       w.last_failure_at::timestamptz AS last_failure_at, w.attacked::boolean AS attacked,
       w.network_list::text[] AS network_list
FROM app.login_watch(@max_rows::integer) AS w
JOIN app.tenants t ON t.id = w.tenant_id
ORDER BY w.attacked DESC, w.locked_networks DESC, w.last_failure_at DESC;

-- name: AuditSearch :many
-- AuditSearch pages through the audit log newest first (keyset on (at, id)) with filters.
SELECT e.tenant_id, e.id, e.at, e.actor_user_id, coalesce(u.email, '')::text AS actor_email, e.actor_role,
       e.action, e.entity, e.entity_id, e.old_values, e.new_values, coalesce(host(e.ip), '')::text AS ip, e.user_agent,
       coalesce(t.slug, '')::text AS tenant_slug
FROM audit.events e
LEFT JOIN app.users u ON u.id = e.actor_user_id
LEFT JOIN app.tenants t ON t.id = e.tenant_id
WHERE (sqlc.narg('tenant_id')::bigint IS NULL OR e.tenant_id = sqlc.narg('tenant_id'))
  AND (sqlc.narg('user_id')::bigint IS NULL OR e.actor_user_id = sqlc.narg('user_id'))
  AND (sqlc.narg('action')::text IS NULL OR e.action LIKE analytics.like_escape(sqlc.narg('action')) || '%')
  AND (sqlc.narg('since')::timestamptz IS NULL OR e.at >= sqlc.narg('since'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR e.at < sqlc.narg('until'))
  AND (sqlc.narg('before_at')::timestamptz IS NULL
       OR (e.at, e.id) < (sqlc.narg('before_at')::timestamptz, sqlc.narg('before_id')::bigint))
ORDER BY e.at DESC, e.id DESC
LIMIT @max_rows;

-- name: EtlRunsRecent :many
-- EtlRunsRecent lists a tenant's latest ETL runs.
SELECT r.id, r.tenant_id, r.started_at, r.finished_at, r.status, r.full_load, r.extracted, r.inserted,
       r.updated, r.deleted, r.messages, coalesce(r.error, '')::text AS error, r.worker
FROM etl.runs r
WHERE r.tenant_id = @tenant_id
ORDER BY r.started_at DESC, r.id DESC
LIMIT @max_rows;
