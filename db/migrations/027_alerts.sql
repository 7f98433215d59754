-- Alerts (docs/alerts.md): per tenant, a message when a conversation awaiting a person passes
-- the SLA target, and when its WhatsApp window is about to close with the contact unanswered, by
-- e-mail (through the outgoing mail queue) and by an HTTPS webhook signed with HMAC-SHA256.
--
-- Exactly once: an alert is a row of analytics.alerts keyed by (tenant, conversation, kind,
-- waiting episode); etl.fire_alerts inserts the alerts due at the tenant's sync time ON CONFLICT
-- DO NOTHING and returns only those it inserted, so any number of schedulers may evaluate a
-- tenant at once and only the transaction that wrote an alert delivers it.
-- app.alert_deliveries is the webhook queue and the log of both channels: claimed across tenants
-- with FOR UPDATE SKIP LOCKED, so on Citus it stays a coordinator-local table.

CREATE FUNCTION app.alert_emails_valid(a text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(bool_and(e IS NOT NULL AND e = lower(e) AND e ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(e) <= 254), true)
    FROM unnest(a) AS e
$$;
COMMENT ON FUNCTION app.alert_emails_valid(text[]) IS 'True when every element is a lowercase e-mail address of at most 254 characters.';
-- Checked by app.alert_settings' CHECK constraint, so every role that writes the table calls it.
GRANT EXECUTE ON FUNCTION app.alert_emails_valid(text[]) TO geniai_tenant, geniai_staff, geniai_etl;

-- The webhook key never reaches the audit log (staff read it): redacted like a password hash.
CREATE OR REPLACE FUNCTION audit.redact(row_values jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN r ? 'webhook_secret' THEN jsonb_set(r, '{webhook_secret}', '"[redacted]"') ELSE r END
    FROM (SELECT CASE WHEN row_values ? 'password_hash'
                      THEN jsonb_set(row_values, '{password_hash}', '"[redacted]"')
                      ELSE row_values END AS r) x
$$;
COMMENT ON FUNCTION audit.redact(jsonb) IS 'Replaces a password hash and a webhook key in a row image with [redacted].';

CREATE TABLE app.alert_settings (
    tenant_id      bigint      PRIMARY KEY REFERENCES app.tenants (id) ON DELETE CASCADE,
    sla_enabled    boolean     NOT NULL DEFAULT false,
    window_enabled boolean     NOT NULL DEFAULT false,
    email_to       text[]      NOT NULL DEFAULT '{}'
                   CONSTRAINT alert_settings_email_to_check
                   CHECK (cardinality(email_to) <= 20 AND app.alert_emails_valid(email_to)),
    webhook_url    text        CONSTRAINT alert_settings_webhook_url_check
                               CHECK (webhook_url ~ '^https://[^\s/?#@]+(/[^\s]*)?$' AND length(webhook_url) <= 500),
    webhook_secret text        NOT NULL CONSTRAINT alert_settings_webhook_secret_check CHECK (webhook_secret ~ '^[0-9a-f]{64}$'),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE app.alert_settings IS 'A tenant''s alerts: which conditions, to which e-mail addresses and which webhook. No row: no alerts.';
COMMENT ON COLUMN app.alert_settings.sla_enabled IS 'Alert when a conversation awaiting a person passes the SLA target (only in opening hours).';
COMMENT ON COLUMN app.alert_settings.window_enabled IS 'Alert when the WhatsApp window of a conversation awaiting a person closes within 2 hours.';
COMMENT ON COLUMN app.alert_settings.webhook_url IS 'https URL; the application also refuses private, loopback and link-local addresses, when saving and at every delivery.';
COMMENT ON COLUMN app.alert_settings.webhook_secret IS 'Key of the X-GeniAI-Signature HMAC-SHA256 (hex); shown to the tenant''s admins, who configure their receiver with it.';
CREATE TRIGGER alert_settings_touch BEFORE UPDATE ON app.alert_settings
    FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();
CREATE TRIGGER alert_settings_audit AFTER INSERT OR UPDATE OR DELETE ON app.alert_settings
    FOR EACH ROW EXECUTE FUNCTION audit.record_change();

CREATE TABLE analytics.alerts (
    tenant_id             bigint           NOT NULL,
    conversation_id       integer          NOT NULL,
    kind                  text             NOT NULL CONSTRAINT alerts_kind_check CHECK (kind IN ('sla', 'window')),
    episode               timestamptz      NOT NULL,
    event_id              uuid             NOT NULL DEFAULT gen_random_uuid(),
    fired_at              timestamptz      NOT NULL DEFAULT now(),
    synced_at             timestamptz      NOT NULL,
    inbox_id              integer          NOT NULL,
    account_id            integer          NOT NULL,
    display_id            integer          NOT NULL,
    contact_name          text             NOT NULL,
    wait_business_seconds double precision NOT NULL,
    window_closes_at      timestamptz,
    PRIMARY KEY (tenant_id, conversation_id, kind, episode),
    CONSTRAINT alerts_event_key UNIQUE (tenant_id, event_id)
);
COMMENT ON TABLE analytics.alerts IS 'Every alert fired: one per conversation, condition (kind) and waiting episode (the key); written only by etl.fire_alerts.';
COMMENT ON COLUMN analytics.alerts.kind IS 'sla: the wait passed the SLA target; window: the WhatsApp window closes within 2 hours.';
COMMENT ON COLUMN analytics.alerts.episode IS 'waiting_since of the wait that fired it: a conversation that needs a person again alerts again.';
COMMENT ON COLUMN analytics.alerts.synced_at IS 'The sync time the conditions were evaluated at.';
COMMENT ON COLUMN analytics.alerts.event_id IS 'Identifies the alert to receivers (X-GeniAI-Event-Id), the same on every delivery attempt.';
CREATE INDEX alerts_tenant_fired_idx ON analytics.alerts (tenant_id, fired_at DESC);

CREATE TABLE app.alert_deliveries (
    tenant_id        bigint      NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    id               bigint      GENERATED ALWAYS AS IDENTITY,
    event_id         uuid        NOT NULL,
    conversation_id  integer     NOT NULL,
    kind             text        NOT NULL,
    channel          text        NOT NULL CONSTRAINT alert_deliveries_channel_check CHECK (channel IN ('email', 'webhook')),
    target           text        NOT NULL,
    mail_id          bigint,
    payload          jsonb,
    status           text        NOT NULL DEFAULT 'queued'
                     CONSTRAINT alert_deliveries_status_check CHECK (status IN ('queued', 'sending', 'delivered', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer     NOT NULL DEFAULT 8 CHECK (max_attempts BETWEEN 1 AND 50),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_http_status integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT alert_deliveries_once UNIQUE (tenant_id, event_id, channel, target),
    CONSTRAINT alert_deliveries_payload CHECK ((channel = 'webhook') = (payload IS NOT NULL))
);
COMMENT ON TABLE app.alert_deliveries IS 'One row per alert and destination (an e-mail address or the webhook). Webhook rows are the delivery queue, claimed across tenants by the sender (FOR UPDATE SKIP LOCKED), so on Citus a coordinator-local table; e-mail rows point at their app.mail_outbox message.';
COMMENT ON COLUMN app.alert_deliveries.mail_id IS 'E-mail: the app.mail_outbox message (its status is the delivery''s).';
COMMENT ON COLUMN app.alert_deliveries.payload IS 'Webhook: the JSON body, the same on every attempt.';
COMMENT ON COLUMN app.alert_deliveries.status IS 'Webhook: queued → sending (claimed, leased until next_attempt_at) → delivered | queued again (retry with backoff) | failed. E-mail: see the mail queue.';
CREATE INDEX alert_deliveries_due_idx ON app.alert_deliveries (next_attempt_at)
    WHERE channel = 'webhook' AND status IN ('queued', 'sending');
CREATE INDEX alert_deliveries_tenant_created_idx ON app.alert_deliveries (tenant_id, created_at DESC);

CREATE TABLE app.alert_attempts (
    tenant_id   bigint      NOT NULL,
    delivery_id bigint      NOT NULL,
    attempt     integer     NOT NULL CHECK (attempt >= 1),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    http_status integer,
    error       text,
    PRIMARY KEY (tenant_id, delivery_id, attempt),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES app.alert_deliveries (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE app.alert_attempts IS 'Every webhook delivery attempt: when, the HTTP status the receiver answered, or why it failed.';

ALTER TABLE app.alert_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.alert_settings FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.alerts FORCE ROW LEVEL SECURITY;
ALTER TABLE app.alert_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.alert_deliveries FORCE ROW LEVEL SECURITY;
ALTER TABLE app.alert_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.alert_attempts FORCE ROW LEVEL SECURITY;

-- Settings: the tenant's admins read and write their own (clients never: the row holds the
-- webhook key); staff read all and super_admin writes; the loader reads its tenant's.
CREATE POLICY alert_settings_admin_read ON app.alert_settings FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin');
CREATE POLICY alert_settings_admin_insert ON app.alert_settings FOR INSERT TO geniai_tenant
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin');
CREATE POLICY alert_settings_admin_update ON app.alert_settings FOR UPDATE TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin')
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin');
CREATE POLICY alert_settings_staff_read ON app.alert_settings FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY alert_settings_staff_insert ON app.alert_settings FOR INSERT TO geniai_staff
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY alert_settings_staff_update ON app.alert_settings FOR UPDATE TO geniai_staff
    USING ((SELECT app.current_app_role()) = 'super_admin')
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY alert_settings_etl_read ON app.alert_settings FOR SELECT TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON app.alert_settings TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT (tenant_id, sla_enabled, window_enabled, email_to, webhook_url, webhook_secret),
      UPDATE (sla_enabled, window_enabled, email_to, webhook_url, webhook_secret)
    ON app.alert_settings TO geniai_tenant, geniai_staff;

-- Alerts and their delivery log: the tenant's admins read their own, staff read all; the loader
-- writes its tenant's alerts and deliveries; the sender (super_admin) updates deliveries.
CREATE POLICY alerts_admin_read ON analytics.alerts FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin');
CREATE POLICY alerts_staff_read ON analytics.alerts FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY alerts_etl_all ON analytics.alerts FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON analytics.alerts TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT ON analytics.alerts TO geniai_etl;

CREATE POLICY alert_deliveries_admin_read ON app.alert_deliveries FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin');
CREATE POLICY alert_deliveries_staff_read ON app.alert_deliveries FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY alert_deliveries_staff_update ON app.alert_deliveries FOR UPDATE TO geniai_staff
    USING ((SELECT app.current_app_role()) = 'super_admin')
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY alert_deliveries_etl_read ON app.alert_deliveries FOR SELECT TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY alert_deliveries_etl_insert ON app.alert_deliveries FOR INSERT TO geniai_etl
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON app.alert_deliveries TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT (tenant_id, event_id, conversation_id, kind, channel, target, mail_id, payload, status)
    ON app.alert_deliveries TO geniai_etl;
GRANT UPDATE (status, attempts, next_attempt_at, last_http_status, last_error, delivered_at)
    ON app.alert_deliveries TO geniai_staff;

CREATE POLICY alert_attempts_admin_read ON app.alert_attempts FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()) AND (SELECT app.current_app_role()) = 'admin');
CREATE POLICY alert_attempts_staff_read ON app.alert_attempts FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY alert_attempts_staff_insert ON app.alert_attempts FOR INSERT TO geniai_staff
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY alert_attempts_staff_update ON app.alert_attempts FOR UPDATE TO geniai_staff
    USING ((SELECT app.current_app_role()) = 'super_admin')
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
GRANT SELECT ON app.alert_attempts TO geniai_tenant, geniai_staff;
GRANT INSERT (tenant_id, delivery_id, attempt, started_at, finished_at, http_status, error),
      UPDATE (finished_at, http_status, error)
    ON app.alert_attempts TO geniai_staff;

-- The alerts due for the current tenant at its sync time (etl.watermarks.source_checked_at), for
-- its conversations awaiting a person:
--   sla    the wait passed the SLA target (waiting_due_at before the sync time) and the inbox is
--          open at the sync time; a target passed more than 24 hours before the sync (the product
--          was down, or alerts were just switched on) is not announced any more;
--   window the WhatsApp window closes within 2 hours of the sync time (at any hour).
-- Inserts them (one per conversation, kind and waiting episode) and returns the event ids of
-- those this call inserted.
CREATE FUNCTION etl.fire_alerts()
    RETURNS SETOF uuid
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    AS $$
DECLARE
    t      bigint := app.current_tenant_id();
    s      app.alert_settings;
    synced timestamptz;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.fire_alerts: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO s FROM app.alert_settings a WHERE a.tenant_id = t;
    IF NOT FOUND OR NOT (s.sla_enabled OR s.window_enabled)
       OR (cardinality(s.email_to) = 0 AND s.webhook_url IS NULL) THEN
        RETURN;
    END IF;
    SELECT w.source_checked_at INTO synced FROM etl.watermarks w WHERE w.tenant_id = t;
    IF synced IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH cand AS (
        SELECT c.conversation_id, 'sla'::text AS kind, c.waiting_since, c.inbox_id, c.account_id, c.display_id,
               c.contact_name, c.window_closes_at, coalesce(ib.timezone, tn.timezone) AS tz, ib.week
        FROM analytics.conversations c
        JOIN app.tenants tn ON tn.id = c.tenant_id
        LEFT JOIN analytics.inboxes ib ON ib.tenant_id = c.tenant_id AND ib.inbox_id = c.inbox_id
        WHERE s.sla_enabled AND c.tenant_id = t AND c.waiting_since IS NOT NULL
          AND c.waiting_due_at < synced AND c.waiting_due_at >= synced - interval '24 hours'
          AND analytics.is_open_at(synced, coalesce(ib.timezone, tn.timezone), ib.week)
        UNION ALL
        SELECT c.conversation_id, 'window'::text, c.waiting_since, c.inbox_id, c.account_id, c.display_id,
               c.contact_name, c.window_closes_at, coalesce(ib.timezone, tn.timezone), ib.week
        FROM analytics.conversations c
        JOIN app.tenants tn ON tn.id = c.tenant_id
        LEFT JOIN analytics.inboxes ib ON ib.tenant_id = c.tenant_id AND ib.inbox_id = c.inbox_id
        WHERE s.window_enabled AND c.tenant_id = t AND c.waiting_since IS NOT NULL
          AND c.window_closes_at > synced AND c.window_closes_at <= synced + interval '2 hours'
    ), ins AS (
        INSERT INTO analytics.alerts AS a (tenant_id, conversation_id, kind, episode, synced_at, inbox_id, account_id,
                                           display_id, contact_name, wait_business_seconds, window_closes_at)
        SELECT t, x.conversation_id, x.kind, x.waiting_since, synced, x.inbox_id, x.account_id, x.display_id,
               x.contact_name, coalesce(analytics.business_seconds(x.waiting_since, synced, x.tz, x.week), 0),
               x.window_closes_at
        FROM cand x
        ON CONFLICT ON CONSTRAINT alerts_pkey DO NOTHING
        RETURNING a.event_id
    )
    SELECT ins.event_id FROM ins;
END
$$;
COMMENT ON FUNCTION etl.fire_alerts() IS
    'Inserts the alerts due for the current tenant at its sync time (once per conversation, kind and waiting episode) and returns the event ids of those this call inserted.';
GRANT EXECUTE ON FUNCTION etl.fire_alerts() TO geniai_etl;

-- An e-mail delivery's state is its message's in the mail queue, which tenants cannot read (other
-- messages carry set-password links): this says only that, and only to the tenant's admins and to
-- staff. Status 'delivered' once sent, 'failed' when given up or cancelled.
CREATE FUNCTION app.alert_mail_info(p_tenant_id bigint, p_mail_id bigint)
    RETURNS TABLE (status text, attempts integer, last_error text)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE m.status WHEN 'sent' THEN 'delivered' WHEN 'failed' THEN 'failed' WHEN 'cancelled' THEN 'failed'
                ELSE m.status END,
           m.attempts, m.last_error
    FROM app.mail_outbox m
    WHERE m.tenant_id = p_tenant_id AND m.id = p_mail_id
      AND ((app.current_tenant_id() = p_tenant_id AND app.current_app_role() = 'admin')
           OR app.current_app_role() IN ('super_admin', 'support'))
$$;
COMMENT ON FUNCTION app.alert_mail_info(bigint, bigint) IS 'State, attempts and last error of an alert e-mail in the mail queue, for the tenant''s admins and staff.';
REVOKE ALL ON FUNCTION app.alert_mail_info(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.alert_mail_info(bigint, bigint) TO geniai_tenant, geniai_staff;

---- create above / drop below ----

DROP FUNCTION app.alert_mail_info(bigint, bigint);
DROP FUNCTION etl.fire_alerts();
DROP TABLE app.alert_attempts;
DROP TABLE app.alert_deliveries;
DROP TABLE analytics.alerts;
DROP TABLE app.alert_settings;
DROP FUNCTION app.alert_emails_valid(text[]);
CREATE OR REPLACE FUNCTION audit.redact(row_values jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN row_values ? 'password_hash'
                THEN jsonb_set(row_values, '{password_hash}', '"[redacted]"')
                ELSE row_values END
$$;
COMMENT ON FUNCTION audit.redact(jsonb) IS 'Replaces a password hash in a row image with [redacted].';
