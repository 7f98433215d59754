-- Digest subscriptions and deliveries. The scheduler finds what is due as staff (across tenants),
-- then renders and records each delivery in the subscriber's own context.

-- name: DigestDue :many
-- DigestDue lists subscriptions whose latest scheduled instant (at or before now, after the
-- subscription was made) has no delivery yet, with the subscriber's identity; one row each, so a
-- server that was down sends only the latest missed period. Inactive users and tenants that may
-- not sign in are left out.
SELECT s.tenant_id, s.id, s.user_id, u.role, u.email, u.full_name, u.language, s.frequency,
       t.timezone, sc.scheduled_for::timestamptz AS scheduled_for, sc.period_start::date AS period_start,
       sc.period_end::date AS period_end
FROM app.digest_subscriptions s
JOIN app.users u ON u.id = s.user_id
JOIN app.tenants t ON t.id = s.tenant_id
CROSS JOIN LATERAL app.digest_schedule(s.frequency, s.weekday, s.hour, t.timezone, @now::timestamptz) sc
WHERE u.is_active
  AND (t.status = 'active' OR (t.status = 'trial' AND t.trial_ends_at > @now::timestamptz))
  AND sc.scheduled_for > s.created_at
  AND NOT EXISTS (SELECT FROM app.digest_deliveries d
                  WHERE d.tenant_id = s.tenant_id AND d.subscription_id = s.id AND d.period_start = sc.period_start)
ORDER BY s.tenant_id, s.id
LIMIT @lim;

-- name: DigestDeliveryClaim :one
-- DigestDeliveryClaim records that this period of the subscription is being delivered; no row
-- when another scheduler already did (it waits for that one to commit or roll back first).
INSERT INTO app.digest_deliveries (tenant_id, subscription_id, period_start, period_end, scheduled_for)
SELECT s.tenant_id, s.id, @period_start::date, @period_end::date, @scheduled_for::timestamptz
FROM app.digest_subscriptions s
WHERE s.tenant_id = @tenant_id AND s.id = @subscription_id AND s.user_id = app.current_user_id()
ON CONFLICT (tenant_id, subscription_id, period_start) DO NOTHING
RETURNING subscription_id;

-- name: DigestDeliveryMail :exec
-- DigestDeliveryMail links a delivery to its queued e-mail.
UPDATE app.digest_deliveries SET mail_id = @mail_id
WHERE tenant_id = @tenant_id AND subscription_id = @subscription_id AND period_start = @period_start;

-- name: DigestSubscriptionKey :one
-- DigestSubscriptionKey is the unsubscribe secret of a subscription (its own user, or an admin).
SELECT unsubscribe_key FROM app.digest_subscriptions WHERE tenant_id = @tenant_id AND id = @id;

-- name: DigestSubscriptions :many
-- DigestSubscriptions lists a tenant's subscriptions visible to the caller (a user: their own;
-- a tenant admin and staff: all), with the subscriber and their last delivery.
SELECT s.id, s.user_id, u.email, u.full_name, s.frequency, s.weekday, s.hour, s.created_at,
       coalesce(to_char(l.period_end, 'YYYY-MM-DD'), '')::text AS last_period_end
FROM app.digest_subscriptions s
JOIN app.users u ON u.id = s.user_id
LEFT JOIN LATERAL (
    SELECT d.period_end FROM app.digest_deliveries d
    WHERE d.tenant_id = s.tenant_id AND d.subscription_id = s.id
    ORDER BY d.period_start DESC LIMIT 1
) l ON true
WHERE s.tenant_id = @tenant_id
ORDER BY u.email, s.frequency;

-- name: DigestSubscribe :one
-- DigestSubscribe creates or changes a user's subscription of one frequency.
INSERT INTO app.digest_subscriptions (tenant_id, user_id, frequency, weekday, hour, created_by)
VALUES (@tenant_id, @user_id, @frequency, @weekday, @hour, app.current_user_id())
ON CONFLICT (tenant_id, user_id, frequency) DO UPDATE SET weekday = EXCLUDED.weekday, hour = EXCLUDED.hour
RETURNING id;

-- name: DigestUnsubscribe :execrows
-- DigestUnsubscribe removes a subscription (its user or a tenant admin; staff super_admin).
DELETE FROM app.digest_subscriptions WHERE tenant_id = @tenant_id AND id = @id;

-- name: DigestUnsubscribeLookup :one
-- DigestUnsubscribeLookup says what an unsubscribe link is about (anonymous).
SELECT l.frequency::text AS frequency, l.email::text AS email, l.tenant_name::text AS tenant_name
FROM app.digest_unsubscribe_lookup(@tenant_id::bigint, @id::bigint, @key::text) AS l;

-- name: DigestUnsubscribeByLink :one
-- DigestUnsubscribeByLink removes the subscription of an unsubscribe link (anonymous).
SELECT app.digest_unsubscribe(@tenant_id::bigint, @id::bigint, @key::text)::boolean AS removed;

-- name: DigestSchedule :one
-- DigestSchedule is the latest sending instant and period of a schedule (tests, the settings page).
SELECT sc.scheduled_for::timestamptz AS scheduled_for, sc.period_start::date AS period_start,
       sc.period_end::date AS period_end
FROM app.digest_schedule(@frequency::text, @weekday::integer, @hour::integer, @timezone::text, @now::timestamptz) sc;
