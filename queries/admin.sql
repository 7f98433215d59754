-- Staff queries (the admin panel and the geniai CLI share them). They run as geniai_staff: RLS
-- lets staff read every tenant and only super_admin write.

-- name: AdminTenantOverview :many
-- AdminTenantOverview is one row per client tenant: status, size, activity in the last 30 days
-- (up to today in the tenant's own timezone at @now: the dashboard's "30 dias") against the 30
-- before, and ETL health. health is 'failed' (the latest run failed or was left unfinished),
-- 'never' (inboxes mapped, no successful sync yet), 'stale' (the last success is older than
-- @stale_seconds) or ''; cancelled tenants are not synced and never flagged. last_run_at is the
-- epoch when the tenant never ran.
SELECT t.id, t.slug, t.name, t.status, t.plan, t.trial_ends_at, t.timezone, t.created_at,
       (SELECT count(*) FROM app.tenant_inboxes i WHERE i.tenant_id = t.id)::integer AS inboxes,
       (SELECT count(*) FROM app.users u WHERE u.tenant_id = t.id AND u.is_active)::integer AS users,
       k.today::date AS today,
       coalesce(s.conversations, 0)::bigint AS conversations_30d,
       coalesce(s.leads, 0)::bigint AS leads_30d,
       coalesce(s.prev_conversations, 0)::bigint AS conversations_prev_30d,
       coalesce(s.prev_leads, 0)::bigint AS leads_prev_30d,
       w.last_success_at,
       coalesce(r.status, '')::text AS last_run_status,
       coalesce(r.error, '')::text AS last_run_error,
       coalesce(r.started_at, 'epoch'::timestamptz)::timestamptz AS last_run_at,
       (CASE
            WHEN t.status = 'cancelled' THEN ''
            WHEN r.status IN ('failed', 'stale') THEN 'failed'
            WHEN w.last_success_at IS NULL THEN
                CASE WHEN EXISTS (SELECT FROM app.tenant_inboxes i WHERE i.tenant_id = t.id) THEN 'never' ELSE '' END
            WHEN w.last_success_at < sqlc.arg('now')::timestamptz - make_interval(secs => sqlc.arg('stale_seconds')::double precision) THEN 'stale'
            ELSE ''
        END)::text AS health
FROM app.tenants t
CROSS JOIN LATERAL (SELECT (sqlc.arg('now')::timestamptz AT TIME ZONE t.timezone)::date AS today) k
-- Per-tenant functions, not LATERAL subqueries: on Citus each is one query on the tenant's worker.
LEFT JOIN LATERAL analytics.tenant_activity(t.id, k.today) s ON true
LEFT JOIN etl.watermarks w ON w.tenant_id = t.id
LEFT JOIN LATERAL etl.latest_run(t.id) r ON true
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
-- AuditSearch pages through the audit log newest first (keyset on (at, id)) with filters: client,
-- actor (by id, or name or e-mail containing @person), raw action prefix, kind prefix
-- (audit.event_kind: 'tenant.' or 'tenant.suspended'), period. Each event comes with what a
-- person reads: its kind, the actor's and the subject's names, the client's name and the
-- changes (audit.event_changes).
SELECT e.tenant_id, e.id, e.at, e.actor_user_id, coalesce(u.email, '')::text AS actor_email, e.actor_role,
       e.action, e.entity, e.entity_id, e.old_values, e.new_values, coalesce(host(e.ip), '')::text AS ip, e.user_agent,
       coalesce(t.slug, '')::text AS tenant_slug,
       coalesce(t.name, '')::text AS tenant_name,
       coalesce(t.is_platform, false)::boolean AS tenant_is_platform,
       k.kind::text AS kind,
       coalesce(u.full_name, '')::text AS actor_name,
       coalesce(e.new_values ->> 'full_name', e.old_values ->> 'full_name', su.full_name, '')::text AS subject_name,
       coalesce(e.new_values ->> 'email', e.old_values ->> 'email', su.email, '')::text AS subject_email,
       coalesce(e.new_values ->> 'inbox_name', e.old_values ->> 'inbox_name', '')::text AS inbox_name,
       audit.event_changes(e.old_values, e.new_values)::jsonb AS changes
FROM audit.events e
CROSS JOIN LATERAL (SELECT audit.event_kind(e.action, e.old_values, e.new_values, e.actor_user_id, e.entity_id) AS kind) k
LEFT JOIN app.users u ON u.id = e.actor_user_id
LEFT JOIN app.users su ON e.entity IN ('user', 'users') AND e.entity_id ~ '^[0-9]{1,18}$' AND su.id = e.entity_id::bigint
LEFT JOIN app.tenants t ON t.id = e.tenant_id
WHERE (sqlc.narg('tenant_id')::bigint IS NULL OR e.tenant_id = sqlc.narg('tenant_id'))
  AND (sqlc.narg('user_id')::bigint IS NULL OR e.actor_user_id = sqlc.narg('user_id'))
  AND (sqlc.narg('person')::text IS NULL
       OR u.email ILIKE '%' || analytics.like_escape(sqlc.narg('person')) || '%'
       OR u.full_name ILIKE '%' || analytics.like_escape(sqlc.narg('person')) || '%')
  AND (sqlc.narg('action')::text IS NULL OR e.action LIKE analytics.like_escape(sqlc.narg('action')) || '%')
  AND (sqlc.narg('kind')::text IS NULL OR k.kind LIKE analytics.like_escape(sqlc.narg('kind')) || '%')
  AND (sqlc.narg('since')::timestamptz IS NULL OR e.at >= sqlc.narg('since'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR e.at < sqlc.narg('until'))
  AND (sqlc.narg('before_at')::timestamptz IS NULL
       OR (e.at, e.id) < (sqlc.narg('before_at')::timestamptz, sqlc.narg('before_id')::bigint))
ORDER BY e.at DESC, e.id DESC
LIMIT @max_rows;

-- name: UserOwnTimezone :one
-- UserOwnTimezone is the zone the context user reads times in.
SELECT u.timezone FROM app.users u WHERE u.id = app.current_user_id();

-- name: UserSetOwnTimezone :one
-- UserSetOwnTimezone changes the zone the context user reads times in (app.user_set_timezone);
-- no row without a context user.
SELECT s.id::bigint AS id FROM app.user_set_timezone(@timezone::text) AS s(id) WHERE s.id IS NOT NULL;

-- name: TimezoneNames :many
-- TimezoneNames lists the IANA zones the server knows, with their current UTC offset, for the
-- timezone picker (abbreviations and POSIX-style names left out).
SELECT z.name::text AS name, extract(epoch FROM z.utc_offset)::integer AS offset_seconds
FROM pg_catalog.pg_timezone_names z
WHERE z.name ~ '^(Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific)/' OR z.name = 'UTC'
ORDER BY z.name;

-- name: EtlRunsRecent :many
-- EtlRunsRecent lists a tenant's latest ETL runs, newest first; a row of unchanged checks stands
-- for checks of them, the latest at last_check_at.
SELECT r.id, r.tenant_id, r.started_at, r.finished_at, r.status, r.full_load, r.extracted, r.inserted,
       r.updated, r.deleted, r.messages, coalesce(r.error, '')::text AS error, r.worker,
       r.unchanged, r.checks, r.last_check_at
FROM etl.runs r
WHERE r.tenant_id = @tenant_id
ORDER BY r.started_at DESC, r.id DESC
LIMIT @max_rows;

-- name: EtlRunHistory :many
-- EtlRunHistory is a tenant's runs that started since @since, oldest first, for the sync chart:
-- each run's duration and its lag, the time from the end of the previous successful check to
-- this run's start (how long the dashboard had gone without a sync; NULL for the first).
SELECT h.id, h.started_at, h.status, h.unchanged, h.checks, h.extracted,
       coalesce(extract(epoch FROM h.finished_at - h.started_at), 0)::float8 AS duration_seconds,
       coalesce(extract(epoch FROM h.started_at - h.prev_success_at), 'NaN')::float8 AS lag_seconds
FROM (
    SELECT r.id, r.started_at, r.finished_at, r.status, r.unchanged, r.checks, r.extracted,
           max(CASE WHEN r.status = 'succeeded' THEN coalesce(r.last_check_at, r.finished_at) END)
               OVER (ORDER BY r.started_at, r.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_success_at
    FROM etl.runs r
    WHERE r.tenant_id = @tenant_id AND r.started_at >= sqlc.arg('since')::timestamptz - interval '2 days'
) h
WHERE h.started_at >= sqlc.arg('since')::timestamptz
ORDER BY h.started_at, h.id;

-- name: ClientComparisonTenants :many
-- ClientComparisonTenants is every client tenant of the staff comparison with the period it is
-- compared over, the one of equal length just before, what its figures depend on (version) and
-- its sync health. The period is each tenant's own: the last @days days up to today in the
-- tenant's timezone at @now, unless @from_day and @to_day name one. version moves whenever the
-- tenant's rollups may have changed: its data version (every sync that merged moves it) and the
-- change stamps of its record and settings; a result computed at one version is the result at any
-- snapshot with the same version and period. health is AdminTenantOverview's, with the same rule;
-- the latest run is read in a scalar subquery: as a join, the function's default estimate of 1,000
-- rows per tenant makes the plan look a million rows big, and JIT compilation alone then costs
-- more than the whole query.
SELECT tn.id, tn.slug, tn.name, tn.status, tn.timezone,
       p.from_day::date AS from_day, p.to_day::date AS to_day,
       (p.from_day - (p.to_day - p.from_day + 1))::date AS prev_from_day, (p.from_day - 1)::date AS prev_to_day,
       concat_ws('|', coalesce(w.data_version, 0), tn.updated_at, ts.updated_at)::text AS version,
       (CASE
            WHEN tn.status = 'cancelled' THEN ''
            WHEN (SELECT r.status FROM etl.latest_run(tn.id) r) IN ('failed', 'stale') THEN 'failed'
            WHEN w.last_success_at IS NULL THEN
                CASE WHEN EXISTS (SELECT FROM app.tenant_inboxes i WHERE i.tenant_id = tn.id) THEN 'never' ELSE '' END
            WHEN w.last_success_at < sqlc.arg('now')::timestamptz - make_interval(secs => sqlc.arg('stale_seconds')::double precision) THEN 'stale'
            ELSE ''
        END)::text AS health
FROM app.tenants tn
CROSS JOIN LATERAL (
    SELECT coalesce(sqlc.narg('from_day')::date,
                    (sqlc.arg('now')::timestamptz AT TIME ZONE tn.timezone)::date - (sqlc.arg('days')::integer - 1)) AS from_day,
           coalesce(sqlc.narg('to_day')::date, (sqlc.arg('now')::timestamptz AT TIME ZONE tn.timezone)::date) AS to_day
) p
LEFT JOIN app.tenant_settings ts ON ts.tenant_id = tn.id
LEFT JOIN etl.watermarks w ON w.tenant_id = tn.id
WHERE NOT tn.is_platform
ORDER BY tn.name, tn.id;

-- name: ClientComparison :many
-- ClientComparison is, for each tenant of @ids with its period @from_days–@to_days and the one
-- before from @prev_from_days (as ClientComparisonTenants gives them), its sums over the period
-- (current) and over the one before, from the tenant-level daily rollups: what the dashboard's
-- KPIs are computed from. A tenant without a row had nothing in either period. Medians come from
-- ClientComparisonHist.
WITH t AS MATERIALIZED (
    SELECT unnest(sqlc.arg('ids')::bigint[]) AS id, unnest(sqlc.arg('from_days')::date[]) AS from_day,
           unnest(sqlc.arg('to_days')::date[]) AS to_day, unnest(sqlc.arg('prev_from_days')::date[]) AS prev_from
)
SELECT d.tenant_id, (d.day >= t.from_day)::boolean AS current,
       sum(d.conversations)::bigint AS conversations,
       sum(d.leads)::bigint AS leads,
       sum(d.visits)::bigint AS visits,
       sum(d.conversions)::bigint AS conversions,
       sum(d.unanswered_leads)::bigint AS unanswered_leads,
       sum(d.first_human_reply_count)::bigint AS human_replied,
       sum(d.resolved)::bigint AS resolved,
       sum(d.bot_resolved)::bigint AS bot_resolved,
       sum(d.with_bot)::bigint AS with_bot,
       sum(d.handoffs)::bigint AS handoffs,
       sum(d.csat_responses)::bigint AS csat_responses,
       sum(d.csat_satisfied)::bigint AS csat_satisfied
FROM t
JOIN analytics.tenant_daily_stats d ON d.tenant_id = t.id AND d.day BETWEEN t.prev_from AND t.to_day
GROUP BY d.tenant_id, (d.day >= t.from_day);

-- name: ClientComparisonHist :many
-- ClientComparisonHist is the daily first-human-reply histograms (metric 2 of
-- analytics.tenant_daily_hist) of the tenants and periods ClientComparison sums; current tells
-- which period. The caller merges them per tenant and period and reads the median and p90 as the
-- dashboard does for a large period (approximate). The periods come materialized so that each
-- tenant's probe is bounded by its days in the index, not only by tenant and metric.
WITH t AS MATERIALIZED (
    SELECT unnest(sqlc.arg('ids')::bigint[]) AS id, unnest(sqlc.arg('from_days')::date[]) AS from_day,
           unnest(sqlc.arg('to_days')::date[]) AS to_day, unnest(sqlc.arg('prev_from_days')::date[]) AS prev_from
)
SELECT d.tenant_id, (d.day >= t.from_day)::boolean AS current, d.buckets, d.counts
FROM t
JOIN analytics.tenant_daily_hist d ON d.tenant_id = t.id AND d.metric = 2 AND d.day BETWEEN t.prev_from AND t.to_day;
