-- name: TenantCreate :one
-- TenantCreate adds a client tenant; its settings row is created by trigger.
INSERT INTO app.tenants (slug, name, status, trial_ends_at, plan, timezone)
VALUES (@slug, @name, @status, sqlc.narg('trial_ends_at'), @plan, @timezone)
RETURNING id, slug, name, status, trial_ends_at, plan, timezone, is_platform, created_at, updated_at;

-- name: TenantGetBySlug :one
-- TenantGetBySlug finds a tenant visible to the current context.
SELECT id, slug, name, status, trial_ends_at, plan, timezone, is_platform, created_at, updated_at
FROM app.tenants
WHERE slug = @slug;

-- name: TenantGetByID :one
-- TenantGetByID finds a tenant visible to the current context.
SELECT id, slug, name, status, trial_ends_at, plan, timezone, is_platform, created_at, updated_at
FROM app.tenants
WHERE id = @id;

-- name: TenantGetPlatform :one
-- TenantGetPlatform returns the GeniAI platform tenant.
SELECT id, slug, name, status, trial_ends_at, plan, timezone, is_platform, created_at, updated_at
FROM app.tenants
WHERE is_platform;

-- name: TenantList :many
-- TenantList lists tenants visible to the current context with their user and inbox counts.
SELECT t.id, t.slug, t.name, t.status, t.trial_ends_at, t.plan, t.timezone, t.is_platform, t.created_at,
       (SELECT count(*) FROM app.users u WHERE u.tenant_id = t.id)::integer AS users,
       (SELECT count(*) FROM app.tenant_inboxes i WHERE i.tenant_id = t.id)::integer AS inboxes
FROM app.tenants t
ORDER BY t.is_platform DESC, t.slug;

-- name: TenantInboxAdd :one
-- TenantInboxAdd maps a Chatwoot inbox to a tenant; an inbox already mapped elsewhere conflicts.
INSERT INTO app.tenant_inboxes (tenant_id, inbox_id, account_id, inbox_name, channel_type)
VALUES (@tenant_id, @inbox_id, sqlc.narg('account_id'), @inbox_name, @channel_type)
RETURNING tenant_id, inbox_id, account_id, inbox_name, channel_type, created_at;

-- name: TenantInboxList :many
-- TenantInboxList lists the inboxes mapped to a tenant.
SELECT tenant_id, inbox_id, account_id, inbox_name, channel_type, created_at
FROM app.tenant_inboxes
WHERE tenant_id = @tenant_id
ORDER BY inbox_id;

-- name: TenantInboxOwner :one
-- TenantInboxOwner tells which tenant (slug) an inbox is mapped to, if any.
SELECT t.slug
FROM app.tenant_inboxes i
JOIN app.tenants t ON t.id = i.tenant_id
WHERE i.inbox_id = @inbox_id;

-- name: TenantInboxOwners :many
-- TenantInboxOwners maps every mapped inbox to its tenant's slug (the onboarding wizard).
SELECT i.inbox_id, t.slug
FROM app.tenant_inboxes i
JOIN app.tenants t ON t.id = i.tenant_id
ORDER BY i.inbox_id;

-- name: RegexRefusal :one
-- RegexRefusal names the first construct of a funnel regular expression that would make matching
-- backtrack (a back-reference or a lookaround), or '' when it has none.
SELECT coalesce(app.regex_refusal(@re::text), '')::text AS construct;

-- name: TenantSlugRefusal :one
-- TenantSlugRefusal says why a slug cannot be a new client's identifier: format, taken, or ""
-- when it is free (staff; the onboarding wizard's live check).
SELECT coalesce(app.tenant_slug_refusal(@slug::text), '')::text AS refusal;
