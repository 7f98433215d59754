-- name: WebhookInboxTenants :many
-- WebhookInboxTenants maps every inbox of a tenant the scheduler syncs (not the platform, not
-- cancelled) to that tenant: what a Chatwoot webhook's inbox id is resolved with.
SELECT i.inbox_id, i.tenant_id
FROM app.tenant_inboxes i
JOIN app.tenants t ON t.id = i.tenant_id
WHERE NOT t.is_platform AND t.status <> 'cancelled'
ORDER BY i.inbox_id;
