-- Outgoing e-mail: a durable queue (app.mail_outbox), its attachments and every send attempt,
-- plus each user's stored language (messages are written in it).
--
-- Web requests, the digest scheduler and alerts only enqueue, through app.mail_enqueue, in their
-- own transaction: a message exists exactly when the work that produced it committed. A worker in
-- `geniai serve` (staff context, actor "mailer") claims due rows with FOR UPDATE SKIP LOCKED
-- (app.mail_claim), hands them to SMTP and records the outcome (app.mail_record). A claim is a
-- lease: a worker that dies mid-send leaves the row claimable again when the lease ends, and the
-- retry carries the same Message-ID. The queue is claimed across tenants, so on Citus it stays a
-- coordinator-local table (never distributed): its claim filters on no tenant.

CREATE TABLE app.mail_outbox (
    tenant_id         bigint      NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    id                bigint      GENERATED ALWAYS AS IDENTITY,
    kind              text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]{0,39}$'),
    ref               text        CHECK (length(ref) <= 200),
    recipient_user_id bigint,
    to_address        text        NOT NULL
                      CHECK (to_address ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(to_address) <= 254),
    to_name           text        NOT NULL DEFAULT '' CHECK (length(to_name) <= 200),
    subject           text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
    text_body         text        NOT NULL,
    html_body         text        NOT NULL DEFAULT '',
    headers           jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(headers) = 'object'),
    message_id        text        NOT NULL UNIQUE CHECK (message_id ~ '^<[^<>@\s]+@[^<>@\s]+>$'),
    scrub_after_send  boolean     NOT NULL DEFAULT false,
    status            text        NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
    attempts          integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      integer     NOT NULL DEFAULT 10 CHECK (max_attempts BETWEEN 1 AND 50),
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    sent_at           timestamptz,
    PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE app.mail_outbox IS 'Outgoing e-mail queue, one row per message. Enqueued only through app.mail_enqueue; claimed across tenants by the mail worker (FOR UPDATE SKIP LOCKED), so on Citus a coordinator-local table.';
COMMENT ON COLUMN app.mail_outbox.kind IS 'What the message is: invitation, password_reset, digest, alert...; shown in the send log.';
COMMENT ON COLUMN app.mail_outbox.ref IS 'What it is about (invitation:12, digest:3:2026-12-07); app.mail_cancel cancels queued messages by it.';
COMMENT ON COLUMN app.mail_outbox.recipient_user_id IS 'When set, re-checked before every attempt: an inactive user, or a tenant that may not sign in, cancels the message.';
COMMENT ON COLUMN app.mail_outbox.message_id IS 'Fixed at enqueue, so a repeat after a crash between SMTP hand-off and recording carries the same Message-ID and mail clients fold it.';
COMMENT ON COLUMN app.mail_outbox.scrub_after_send IS 'Bodies hold a secret (a set-password link): emptied once sent.';
COMMENT ON COLUMN app.mail_outbox.status IS 'queued → sending (claimed, leased until next_attempt_at) → sent | queued again (retry with backoff) | failed (permanent or out of attempts) | cancelled.';
COMMENT ON COLUMN app.mail_outbox.next_attempt_at IS 'queued: when it may be tried; sending: when the lease ends and another worker may claim it.';
CREATE INDEX mail_outbox_due_idx ON app.mail_outbox (next_attempt_at)
    WHERE status IN ('queued', 'sending');
CREATE INDEX mail_outbox_tenant_created_idx ON app.mail_outbox (tenant_id, created_at DESC);
CREATE INDEX mail_outbox_ref_idx ON app.mail_outbox (tenant_id, ref) WHERE ref IS NOT NULL;

CREATE TABLE app.mail_attachments (
    tenant_id    bigint NOT NULL,
    message_id   bigint NOT NULL,
    position     integer NOT NULL CHECK (position >= 0),
    filename     text   NOT NULL CHECK (length(filename) BETWEEN 1 AND 200 AND filename !~ '[/\\\r\n]'),
    content_type text   NOT NULL CHECK (content_type ~ '^[a-z]+/[a-zA-Z0-9.+-]+$'),
    content_id   text   CHECK (content_id ~ '^[A-Za-z0-9._-]{1,100}$'),
    data         bytea  NOT NULL,
    PRIMARY KEY (tenant_id, message_id, position),
    FOREIGN KEY (tenant_id, message_id) REFERENCES app.mail_outbox (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE app.mail_attachments IS 'Files of a queued message: inline images (content_id set, shown in the HTML body as cid:) and attachments.';

CREATE TABLE app.mail_attempts (
    tenant_id   bigint      NOT NULL,
    message_id  bigint      NOT NULL,
    attempt     integer     NOT NULL CHECK (attempt >= 1),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text        CHECK (outcome IN ('sent', 'error', 'unknown', 'cancelled')),
    error       text,
    PRIMARY KEY (tenant_id, message_id, attempt),
    FOREIGN KEY (tenant_id, message_id) REFERENCES app.mail_outbox (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE app.mail_attempts IS 'Every send attempt of a queued message, with its outcome.';
COMMENT ON COLUMN app.mail_attempts.outcome IS 'sent; error (SMTP refused or unreachable); unknown (the worker''s lease ended mid-attempt: it may have been delivered); cancelled (recipient no longer eligible). NULL while in flight.';

ALTER TABLE app.mail_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.mail_outbox FORCE ROW LEVEL SECURITY;
ALTER TABLE app.mail_attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.mail_attachments FORCE ROW LEVEL SECURITY;
ALTER TABLE app.mail_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.mail_attempts FORCE ROW LEVEL SECURITY;

-- Staff read the send log; only super_admin (the worker runs as one) changes rows. Tenants see
-- nothing here: bodies may carry another user's set-password link. Inserts go through
-- app.mail_enqueue (the owner).
CREATE POLICY mail_outbox_staff_read ON app.mail_outbox FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY mail_outbox_staff_update ON app.mail_outbox FOR UPDATE TO geniai_staff
    USING ((SELECT app.current_app_role()) = 'super_admin')
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY mail_outbox_owner_all ON app.mail_outbox FOR ALL TO geniai_owner
    USING (true) WITH CHECK (true);
CREATE POLICY mail_attachments_staff_read ON app.mail_attachments FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY mail_attachments_owner_all ON app.mail_attachments FOR ALL TO geniai_owner
    USING (true) WITH CHECK (true);
CREATE POLICY mail_attempts_staff_read ON app.mail_attempts FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY mail_attempts_staff_insert ON app.mail_attempts FOR INSERT TO geniai_staff
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');
CREATE POLICY mail_attempts_staff_update ON app.mail_attempts FOR UPDATE TO geniai_staff
    USING ((SELECT app.current_app_role()) = 'super_admin')
    WITH CHECK ((SELECT app.current_app_role()) = 'super_admin');

GRANT SELECT ON app.mail_outbox, app.mail_attachments, app.mail_attempts TO geniai_staff;
-- Tenants may ask and get nothing (no policy names geniai_tenant): the same answer as a table
-- whose rows all belong to other tenants.
GRANT SELECT ON app.mail_outbox, app.mail_attachments, app.mail_attempts TO geniai_tenant;
GRANT UPDATE (status, attempts, next_attempt_at, last_error, sent_at, text_body, html_body)
    ON app.mail_outbox TO geniai_staff;
GRANT INSERT (tenant_id, message_id, attempt, started_at, finished_at, outcome, error),
      UPDATE (finished_at, outcome, error)
    ON app.mail_attempts TO geniai_staff;

-- app.mail_enqueue queues one message (and its files) for the context's tenant. A tenant user or
-- the loader may enqueue only for their own tenant, staff (super_admin) for any; anonymous
-- callers never (their flows enqueue inside their own SECURITY DEFINER functions). Returns the
-- outbox id.
CREATE FUNCTION app.mail_enqueue(p_tenant_id bigint, p_kind text, p_ref text, p_recipient_user_id bigint,
                                 p_to_address text, p_to_name text, p_subject text, p_text text,
                                 p_html text, p_headers jsonb, p_message_id text, p_scrub boolean,
                                 p_att_names text[], p_att_types text[], p_att_cids text[],
                                 p_att_data bytea[])
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_role text := app.current_app_role();
    v_ctx  bigint := app.current_tenant_id();
BEGIN
    IF NOT (coalesce(v_role, '') = 'super_admin'
            OR (v_ctx IS NOT NULL AND v_ctx = p_tenant_id
                AND pg_catalog.current_setting('role') IN ('geniai_tenant', 'geniai_etl', 'geniai_owner'))) THEN
        RAISE EXCEPTION 'cannot enqueue e-mail for tenant %', p_tenant_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN app.mail_enqueue_internal(p_tenant_id, p_kind, p_ref, p_recipient_user_id, p_to_address,
                                     p_to_name, p_subject, p_text, p_html, p_headers, p_message_id,
                                     p_scrub, p_att_names, p_att_types, p_att_cids, p_att_data);
END
$$;

-- The insert itself, for the SECURITY DEFINER flows that decide on their own who may send
-- (invitations, password resets). Executable by no application role.
CREATE FUNCTION app.mail_enqueue_internal(p_tenant_id bigint, p_kind text, p_ref text, p_recipient_user_id bigint,
                                          p_to_address text, p_to_name text, p_subject text, p_text text,
                                          p_html text, p_headers jsonb, p_message_id text, p_scrub boolean,
                                          p_att_names text[], p_att_types text[], p_att_cids text[],
                                          p_att_data bytea[])
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_id bigint;
    n    integer := coalesce(pg_catalog.cardinality(p_att_names), 0);
BEGIN
    IF n <> coalesce(pg_catalog.cardinality(p_att_types), 0) OR n <> coalesce(pg_catalog.cardinality(p_att_cids), 0)
       OR n <> coalesce(pg_catalog.cardinality(p_att_data), 0) THEN
        RAISE EXCEPTION 'attachment arrays differ in length' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO app.mail_outbox (tenant_id, kind, ref, recipient_user_id, to_address, to_name, subject,
                                 text_body, html_body, headers, message_id, scrub_after_send)
    VALUES (p_tenant_id, p_kind, p_ref, p_recipient_user_id, pg_catalog.lower(pg_catalog.btrim(p_to_address)),
            coalesce(p_to_name, ''), p_subject, p_text, coalesce(p_html, ''), coalesce(p_headers, '{}'),
            p_message_id, coalesce(p_scrub, false))
    RETURNING id INTO v_id;
    INSERT INTO app.mail_attachments (tenant_id, message_id, position, filename, content_type, content_id, data)
    SELECT p_tenant_id, v_id, i - 1, p_att_names[i], p_att_types[i], nullif(p_att_cids[i], ''), p_att_data[i]
    FROM pg_catalog.generate_series(1, n) AS i;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION app.mail_enqueue_internal(bigint, text, text, bigint, text, text, text, text, text, jsonb, text, boolean, text[], text[], text[], bytea[]) IS 'Internal: inserts a queued message and its files; callers check who may send.';
COMMENT ON FUNCTION app.mail_enqueue(bigint, text, text, bigint, text, text, text, text, text, jsonb, text, boolean, text[], text[], text[], bytea[]) IS 'Queues an e-mail for a tenant: tenant users and the loader for their own tenant, super_admin for any. Attachments as parallel arrays (content id empty for a plain attachment).';
REVOKE ALL ON FUNCTION app.mail_enqueue_internal(bigint, text, text, bigint, text, text, text, text, text, jsonb, text, boolean, text[], text[], text[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.mail_enqueue(bigint, text, text, bigint, text, text, text, text, text, jsonb, text, boolean, text[], text[], text[], bytea[])
    TO geniai_tenant, geniai_staff, geniai_etl;

-- app.mail_cancel cancels the still-queued messages of a tenant with a given ref (an invitation
-- revoked, a subscription ended). Same caller rule as app.mail_enqueue. Returns how many.
CREATE FUNCTION app.mail_cancel(p_tenant_id bigint, p_ref text, p_reason text)
    RETURNS integer
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_role text := app.current_app_role();
    v_ctx  bigint := app.current_tenant_id();
    n      integer;
BEGIN
    IF NOT (coalesce(v_role, '') = 'super_admin'
            OR (v_ctx IS NOT NULL AND v_ctx = p_tenant_id
                AND pg_catalog.current_setting('role') IN ('geniai_tenant', 'geniai_etl', 'geniai_owner'))) THEN
        RAISE EXCEPTION 'cannot cancel e-mail of tenant %', p_tenant_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE app.mail_outbox o
    SET status = 'cancelled', last_error = p_reason
    WHERE o.tenant_id = p_tenant_id AND o.ref = p_ref AND o.status = 'queued';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION app.mail_cancel(bigint, text, text) IS 'Cancels a tenant''s queued (not in-flight) messages with the given ref; same caller rule as app.mail_enqueue.';
GRANT EXECUTE ON FUNCTION app.mail_cancel(bigint, text, text) TO geniai_tenant, geniai_staff, geniai_etl;

-- app.mail_recipient_ok: the recipient check made before every attempt.
CREATE FUNCTION app.mail_recipient_ok(p_user_id bigint)
    RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT p_user_id IS NULL OR EXISTS (
        SELECT FROM app.users u JOIN app.tenants t ON t.id = u.tenant_id
        WHERE u.id = p_user_id AND u.is_active
          AND (t.status = 'active' OR (t.status = 'trial' AND t.trial_ends_at > pg_catalog.now())))
$$;
COMMENT ON FUNCTION app.mail_recipient_ok(bigint) IS 'True when no recipient user is named, or the user is active in a tenant that may sign in.';
GRANT EXECUTE ON FUNCTION app.mail_recipient_ok(bigint) TO geniai_staff;

-- app.mail_claim leases up to p_limit due messages to the calling worker for p_lease_seconds and
-- opens an attempt for each. A message whose previous lease ran out (the worker died mid-send)
-- is claimable again; its open attempt is closed as 'unknown'. A message whose recipient is no
-- longer eligible is cancelled instead of returned. Runs as the worker (staff super_admin), under
-- the table's policies.
CREATE FUNCTION app.mail_claim(p_limit integer, p_lease_seconds integer)
    RETURNS TABLE (tenant_id bigint, id bigint, attempt integer, to_address text, to_name text,
                   subject text, text_body text, html_body text, headers jsonb, message_id text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT o.tenant_id, o.id, o.status AS was, app.mail_recipient_ok(o.recipient_user_id) AS ok
        FROM app.mail_outbox o
        WHERE o.status IN ('queued', 'sending') AND o.next_attempt_at <= pg_catalog.now()
        ORDER BY o.next_attempt_at, o.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ), lost AS (
        UPDATE app.mail_attempts a
        SET finished_at = pg_catalog.now(), outcome = 'unknown',
            error = 'the worker''s lease ended during this attempt; the message may have been delivered'
        FROM due
        WHERE due.was = 'sending' AND a.tenant_id = due.tenant_id AND a.message_id = due.id
          AND a.finished_at IS NULL
        RETURNING a.tenant_id
    ), upd AS (
        UPDATE app.mail_outbox o
        SET status = CASE WHEN due.ok THEN 'sending' ELSE 'cancelled' END,
            attempts = o.attempts + 1,
            next_attempt_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds),
            last_error = CASE WHEN due.ok THEN o.last_error ELSE 'recipient inactive or tenant suspended' END
        FROM due
        WHERE o.tenant_id = due.tenant_id AND o.id = due.id
        RETURNING o.tenant_id, o.id, o.attempts, o.status, o.to_address, o.to_name, o.subject,
                  o.text_body, o.html_body, o.headers, o.message_id
    ), att AS (
        INSERT INTO app.mail_attempts (tenant_id, message_id, attempt, finished_at, outcome, error)
        SELECT upd.tenant_id, upd.id, upd.attempts,
               CASE WHEN upd.status = 'cancelled' THEN pg_catalog.now() END,
               CASE WHEN upd.status = 'cancelled' THEN 'cancelled' END,
               CASE WHEN upd.status = 'cancelled' THEN 'recipient inactive or tenant suspended' END
        FROM upd
        RETURNING 1
    )
    SELECT upd.tenant_id, upd.id, upd.attempts, upd.to_address, upd.to_name, upd.subject,
           upd.text_body, upd.html_body, upd.headers, upd.message_id
    FROM upd
    WHERE upd.status = 'sending'
    ORDER BY upd.id;
END
$$;
COMMENT ON FUNCTION app.mail_claim(integer, integer) IS 'Mail worker: leases due messages (FOR UPDATE SKIP LOCKED), opens their attempts, cancels those whose recipient is no longer eligible.';
GRANT EXECUTE ON FUNCTION app.mail_claim(integer, integer) TO geniai_staff;

-- app.mail_record closes an attempt. Sent: done (bodies emptied when they held a secret).
-- Failed: retried with exponential backoff (30 s doubling, at most 6 h) unless permanent or out
-- of attempts. Only the attempt that holds the lease may record.
CREATE FUNCTION app.mail_record(p_tenant_id bigint, p_id bigint, p_attempt integer, p_sent boolean,
                                p_error text, p_permanent boolean)
    RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_row    record;
    v_status text;
BEGIN
    SELECT o.status, o.attempts, o.max_attempts, o.scrub_after_send INTO v_row
    FROM app.mail_outbox o
    WHERE o.tenant_id = p_tenant_id AND o.id = p_id
    FOR UPDATE;
    IF NOT FOUND OR v_row.status <> 'sending' OR v_row.attempts <> p_attempt THEN
        RETURN 'stale'; -- another worker took over after our lease ended
    END IF;
    IF p_sent THEN
        v_status := 'sent';
        UPDATE app.mail_outbox o
        SET status = 'sent', sent_at = pg_catalog.now(), last_error = NULL,
            text_body = CASE WHEN o.scrub_after_send THEN '[removed after sending]' ELSE o.text_body END,
            html_body = CASE WHEN o.scrub_after_send THEN '' ELSE o.html_body END
        WHERE o.tenant_id = p_tenant_id AND o.id = p_id;
    ELSE
        v_status := CASE WHEN p_permanent OR v_row.attempts >= v_row.max_attempts THEN 'failed' ELSE 'queued' END;
        UPDATE app.mail_outbox o
        SET status = v_status, last_error = pg_catalog.left(p_error, 2000),
            next_attempt_at = pg_catalog.now()
                + least(pg_catalog.make_interval(secs => 30 * pg_catalog.power(2, v_row.attempts - 1)),
                                   interval '6 hours')
        WHERE o.tenant_id = p_tenant_id AND o.id = p_id;
    END IF;
    UPDATE app.mail_attempts a
    SET finished_at = pg_catalog.now(), outcome = CASE WHEN p_sent THEN 'sent' ELSE 'error' END,
        error = pg_catalog.left(p_error, 2000)
    WHERE a.tenant_id = p_tenant_id AND a.message_id = p_id AND a.attempt = p_attempt;
    RETURN v_status;
END
$$;
COMMENT ON FUNCTION app.mail_record(bigint, bigint, integer, boolean, text, boolean) IS 'Mail worker: records an attempt''s outcome; retries with backoff (30 s doubling, capped at 6 h) until max_attempts; returns the new status, or stale when the lease was lost.';
GRANT EXECUTE ON FUNCTION app.mail_record(bigint, bigint, integer, boolean, text, boolean) TO geniai_staff;

-- Each user's language for e-mail (and the interface once signed in).
ALTER TABLE app.users ADD COLUMN language text NOT NULL DEFAULT 'pt-BR' CHECK (language IN ('pt-BR', 'en'));
COMMENT ON COLUMN app.users.language IS 'pt-BR or en: the language of the user''s e-mails and, once signed in, of the interface.';
GRANT SELECT (language) ON app.users TO geniai_tenant, geniai_staff;
GRANT INSERT (language), UPDATE (language) ON app.users TO geniai_tenant, geniai_staff;

-- app.user_set_own_language stores the context user's language (any signed-in user).
CREATE FUNCTION app.user_set_own_language(p_language text)
    RETURNS void
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    UPDATE app.users u SET language = p_language
    WHERE u.id = app.current_user_id() AND u.language IS DISTINCT FROM p_language
$$;
COMMENT ON FUNCTION app.user_set_own_language(text) IS 'Stores the context user''s language (pt-BR or en).';
GRANT EXECUTE ON FUNCTION app.user_set_own_language(text) TO geniai_tenant, geniai_staff;

---- create above / drop below ----

DROP FUNCTION app.user_set_own_language(text);
ALTER TABLE app.users DROP COLUMN language;
DROP FUNCTION app.mail_record(bigint, bigint, integer, boolean, text, boolean);
DROP FUNCTION app.mail_claim(integer, integer);
DROP FUNCTION app.mail_recipient_ok(bigint);
DROP FUNCTION app.mail_cancel(bigint, text, text);
DROP FUNCTION app.mail_enqueue(bigint, text, text, bigint, text, text, text, text, text, jsonb, text, boolean, text[], text[], text[], bytea[]);
DROP FUNCTION app.mail_enqueue_internal(bigint, text, text, bigint, text, text, text, text, text, jsonb, text, boolean, text[], text[], text[], bytea[]);
DROP TABLE app.mail_attempts;
DROP TABLE app.mail_attachments;
DROP TABLE app.mail_outbox;
