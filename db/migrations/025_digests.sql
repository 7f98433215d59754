-- Scheduled e-mail digests: a tenant user subscribes to a daily, weekly or monthly summary of
-- the dashboard (a tenant admin may subscribe others of the tenant). Each delivery is one row of
-- app.digest_deliveries, keyed by subscription and period, inserted in the same transaction that
-- renders the digest and queues its e-mail: exactly one delivery per subscription and period,
-- whatever the number of schedulers, and a crash before the commit leaves nothing behind.

-- A composite key so that a subscription's user must belong to the subscription's tenant.
CREATE UNIQUE INDEX users_tenant_id_id_idx ON app.users (tenant_id, id);

CREATE TABLE app.digest_subscriptions (
    tenant_id       bigint      NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    user_id         bigint      NOT NULL,
    frequency       text        NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    weekday         smallint    NOT NULL DEFAULT 1 CHECK (weekday BETWEEN 1 AND 7),
    hour            smallint    NOT NULL DEFAULT 8 CHECK (hour BETWEEN 0 AND 23),
    unsubscribe_key text        NOT NULL DEFAULT encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex')
                    CHECK (unsubscribe_key ~ '^[0-9a-f]{64}$'),
    created_by      bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, user_id, frequency),
    FOREIGN KEY (tenant_id, user_id) REFERENCES app.users (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE app.digest_subscriptions IS 'Who gets which digest: daily (the previous day), weekly (the 7 days before the send day; default Monday 08:00) or monthly (the previous month, sent on the 1st), at hour in the tenant''s timezone.';
COMMENT ON COLUMN app.digest_subscriptions.weekday IS 'Weekly digests: ISO weekday of sending, 1 = Monday ... 7 = Sunday.';
COMMENT ON COLUMN app.digest_subscriptions.hour IS 'Local hour of sending in the tenant''s timezone.';
COMMENT ON COLUMN app.digest_subscriptions.unsubscribe_key IS 'Secret of the unsubscribe link (no sign-in needed); random per subscription.';
COMMENT ON COLUMN app.digest_subscriptions.created_by IS 'app.users.id of who subscribed (the user, or a tenant admin for them).';

CREATE TABLE app.digest_deliveries (
    tenant_id       bigint      NOT NULL,
    subscription_id bigint      NOT NULL,
    period_start    date        NOT NULL,
    period_end      date        NOT NULL,
    scheduled_for   timestamptz NOT NULL,
    mail_id         bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subscription_id, period_start),
    FOREIGN KEY (tenant_id, subscription_id) REFERENCES app.digest_subscriptions (tenant_id, id) ON DELETE CASCADE,
    CHECK (period_end >= period_start)
);
COMMENT ON TABLE app.digest_deliveries IS 'One row per subscription and period delivered (its e-mail queued in the same transaction); the primary key is what makes a delivery happen once.';
COMMENT ON COLUMN app.digest_deliveries.mail_id IS 'app.mail_outbox.id of the queued e-mail.';

ALTER TABLE app.digest_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.digest_subscriptions FORCE ROW LEVEL SECURITY;
ALTER TABLE app.digest_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.digest_deliveries FORCE ROW LEVEL SECURITY;

-- A tenant user manages their own subscriptions; a tenant admin those of anyone in the tenant.
-- Staff read everything (the admin panel), super_admin may remove.
CREATE POLICY digest_subscriptions_tenant_read ON app.digest_subscriptions FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id())
           AND (user_id = (SELECT app.current_user_id()) OR (SELECT app.current_app_role()) = 'admin'));
CREATE POLICY digest_subscriptions_tenant_insert ON app.digest_subscriptions FOR INSERT TO geniai_tenant
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id())
                AND (user_id = (SELECT app.current_user_id()) OR (SELECT app.current_app_role()) = 'admin')
                AND created_by = (SELECT app.current_user_id()));
CREATE POLICY digest_subscriptions_tenant_update ON app.digest_subscriptions FOR UPDATE TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id())
           AND (user_id = (SELECT app.current_user_id()) OR (SELECT app.current_app_role()) = 'admin'))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id())
                AND (user_id = (SELECT app.current_user_id()) OR (SELECT app.current_app_role()) = 'admin'));
CREATE POLICY digest_subscriptions_tenant_delete ON app.digest_subscriptions FOR DELETE TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id())
           AND (user_id = (SELECT app.current_user_id()) OR (SELECT app.current_app_role()) = 'admin'));
CREATE POLICY digest_subscriptions_staff_read ON app.digest_subscriptions FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY digest_subscriptions_staff_delete ON app.digest_subscriptions FOR DELETE TO geniai_staff
    USING ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY digest_subscriptions_owner_all ON app.digest_subscriptions FOR ALL TO geniai_owner
    USING (true) WITH CHECK (true);

-- Deliveries are written by the scheduler in the subscriber's own context.
CREATE POLICY digest_deliveries_tenant_read ON app.digest_deliveries FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY digest_deliveries_tenant_insert ON app.digest_deliveries FOR INSERT TO geniai_tenant
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY digest_deliveries_tenant_update ON app.digest_deliveries FOR UPDATE TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY digest_deliveries_staff_read ON app.digest_deliveries FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));

GRANT SELECT, DELETE ON app.digest_subscriptions TO geniai_tenant;
GRANT INSERT (tenant_id, user_id, frequency, weekday, hour, created_by),
      UPDATE (frequency, weekday, hour)
    ON app.digest_subscriptions TO geniai_tenant;
GRANT SELECT (tenant_id, id, user_id, frequency, weekday, hour, created_by, created_at), DELETE
    ON app.digest_subscriptions TO geniai_staff;
GRANT SELECT, INSERT (tenant_id, subscription_id, period_start, period_end, scheduled_for, mail_id),
      UPDATE (mail_id)
    ON app.digest_deliveries TO geniai_tenant;
GRANT SELECT ON app.digest_deliveries TO geniai_staff;

-- app.digest_schedule: for a subscription's settings, the latest scheduled sending instant at or
-- before p_now and the period it covers (dates in the tenant's timezone, inclusive).
--   daily:   every day at hour; the previous day.
--   weekly:  on weekday (ISO) at hour; the 7 days before the sending day.
--   monthly: on the 1st at hour; the previous calendar month.
-- Local times that fall in a DST gap map forward, as PostgreSQL's AT TIME ZONE does.
CREATE FUNCTION app.digest_schedule(p_frequency text, p_weekday integer, p_hour integer, p_timezone text,
                                    p_now timestamptz)
    RETURNS TABLE (scheduled_for timestamptz, period_start date, period_end date)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH l AS (
        SELECT (p_now AT TIME ZONE p_timezone) AS now_local
    ), c AS (
        SELECT CASE p_frequency
                   WHEN 'daily' THEN pg_catalog.date_trunc('day', now_local)
                   WHEN 'weekly' THEN pg_catalog.date_trunc('week', now_local) + make_interval(days => p_weekday - 1)
                   ELSE pg_catalog.date_trunc('month', now_local)
               END + make_interval(hours => p_hour) AS cand, now_local
        FROM l
    ), s AS (
        SELECT CASE WHEN cand <= now_local THEN cand
                    WHEN p_frequency = 'daily' THEN cand - interval '1 day'
                    WHEN p_frequency = 'weekly' THEN cand - interval '7 days'
                    ELSE pg_catalog.date_trunc('month', cand - interval '1 month') + make_interval(hours => p_hour)
               END AS local_at
        FROM c
    )
    SELECT local_at AT TIME ZONE p_timezone,
           CASE p_frequency
               WHEN 'daily' THEN local_at::date - 1
               WHEN 'weekly' THEN local_at::date - 7
               ELSE (pg_catalog.date_trunc('month', local_at) - interval '1 month')::date
           END,
           local_at::date - 1
    FROM s
$$;
COMMENT ON FUNCTION app.digest_schedule(text, integer, integer, text, timestamptz) IS 'Latest sending instant at or before p_now of a digest schedule, and the period (local dates, inclusive) it covers.';
GRANT EXECUTE ON FUNCTION app.digest_schedule(text, integer, integer, text, timestamptz) TO geniai_tenant, geniai_staff;

-- app.digest_unsubscribe_lookup / app.digest_unsubscribe: the unsubscribe link (anonymous; the
-- key is the credential). The lookup says what the subscription is; unsubscribing removes it.
CREATE FUNCTION app.digest_unsubscribe_lookup(p_tenant_id bigint, p_id bigint, p_key text)
    RETURNS TABLE (frequency text, email text, tenant_name text)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT s.frequency, u.email, coalesce(nullif(ts.display_name, ''), t.name)
    FROM app.digest_subscriptions s
    JOIN app.users u ON u.id = s.user_id
    JOIN app.tenants t ON t.id = s.tenant_id
    LEFT JOIN app.tenant_settings ts ON ts.tenant_id = s.tenant_id
    WHERE s.tenant_id = p_tenant_id AND s.id = p_id AND s.unsubscribe_key = p_key
$$;
COMMENT ON FUNCTION app.digest_unsubscribe_lookup(bigint, bigint, text) IS 'Unsubscribe page: the subscription behind a link, or no row.';
GRANT EXECUTE ON FUNCTION app.digest_unsubscribe_lookup(bigint, bigint, text) TO geniai_anon;

CREATE FUNCTION app.digest_unsubscribe(p_tenant_id bigint, p_id bigint, p_key text)
    RETURNS boolean
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_user bigint;
    v_freq text;
BEGIN
    DELETE FROM app.digest_subscriptions s
    WHERE s.tenant_id = p_tenant_id AND s.id = p_id AND s.unsubscribe_key = p_key
    RETURNING s.user_id, s.frequency INTO v_user, v_freq;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM app.mail_cancel_internal(p_tenant_id, 'digest:' || p_id, 'unsubscribed');
    PERFORM audit.log('digest.unsubscribe', 'digest_subscription', p_id::text, NULL,
                      pg_catalog.jsonb_build_object('user_id', v_user, 'frequency', v_freq, 'via', 'link'),
                      p_tenant_id);
    RETURN true;
END
$$;
COMMENT ON FUNCTION app.digest_unsubscribe(bigint, bigint, text) IS 'Unsubscribe link (anonymous): removes the subscription when the key matches, cancels its queued digests, audits digest.unsubscribe.';
GRANT EXECUTE ON FUNCTION app.digest_unsubscribe(bigint, bigint, text) TO geniai_anon;

---- create above / drop below ----

DROP FUNCTION app.digest_unsubscribe(bigint, bigint, text);
DROP FUNCTION app.digest_unsubscribe_lookup(bigint, bigint, text);
DROP FUNCTION app.digest_schedule(text, integer, integer, text, timestamptz);
DROP TABLE app.digest_deliveries;
DROP TABLE app.digest_subscriptions;
DROP INDEX app.users_tenant_id_id_idx;
