-- Speed to lead (docs/metrics.md, "Business hours, waiting for a person, SLA"): the inboxes'
-- opening hours read from Chatwoot, business-time twins of every duration, the bot's request for
-- a person, the first wait for a person and its SLA, the queue of conversations awaiting a person,
-- the WhatsApp window, and lead exclusion labels.
--
-- Everything here is computed by the ETL from what it stores: a change of opening hours, of an
-- inbox's or the tenant's timezone, of the SLA target or of the exclusion labels is re-applied to
-- the tenant's history without reading Chatwoot again (etl.apply_business_hours).

-- 1. Tenant settings ------------------------------------------------------------------------

ALTER TABLE app.tenant_settings
    ADD COLUMN sla_seconds integer NOT NULL DEFAULT 300
        CONSTRAINT tenant_settings_sla_seconds_check CHECK (sla_seconds BETWEEN 60 AND 604800),
    ADD COLUMN lead_exclusion_labels text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN app.tenant_settings.sla_seconds IS 'SLA target for the first wait for a person, in business seconds (1 minute to 7 days).';
COMMENT ON COLUMN app.tenant_settings.lead_exclusion_labels IS 'A conversation with any of these labels is in no funnel stage (not a lead, visit or conversion).';
GRANT UPDATE (sla_seconds, lead_exclusion_labels) ON app.tenant_settings TO geniai_tenant, geniai_staff;

-- Both are rules: a change re-applies them to the tenant's history (rules_version).
CREATE OR REPLACE FUNCTION app.tenant_settings_bump_rules() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF (NEW.lead_labels, NEW.lead_regex, NEW.lead_any_message, NEW.visit_labels, NEW.visit_regex,
        NEW.converted_labels, NEW.converted_regex, NEW.lead_exclusion_labels, NEW.sla_seconds)
       IS DISTINCT FROM
       (OLD.lead_labels, OLD.lead_regex, OLD.lead_any_message, OLD.visit_labels, OLD.visit_regex,
        OLD.converted_labels, OLD.converted_regex, OLD.lead_exclusion_labels, OLD.sla_seconds)
       AND NEW.rules_version = OLD.rules_version THEN
        NEW.rules_version := OLD.rules_version + 1;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.tenant_settings_bump_rules() IS 'BEFORE UPDATE on tenant_settings: a changed funnel rule, exclusion label list or SLA target bumps rules_version.';

-- Exclusion labels win over every stage rule.
CREATE OR REPLACE FUNCTION etl.funnel_stage_labels(s app.tenant_settings, labels text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN labels && s.lead_exclusion_labels THEN 0
        WHEN labels && s.converted_labels THEN 3
        WHEN labels && s.visit_labels THEN 2
        WHEN (s.lead_any_message AND contact_messages > 0) OR labels && s.lead_labels THEN 1
        ELSE 0
    END::smallint
$$;

CREATE OR REPLACE FUNCTION etl.funnel_stage(s app.tenant_settings, labels text[], contact_texts text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN labels && s.lead_exclusion_labels THEN 0 ELSE greatest(etl.funnel_stage_labels(s, labels, contact_messages), CASE
        WHEN s.converted_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.converted_regex)
            THEN 3
        WHEN s.visit_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.visit_regex)
            THEN 2
        WHEN s.lead_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.lead_regex)
            THEN 1
        ELSE 0
    END) END::smallint
$$;

-- 2. Opening hours ----------------------------------------------------------------------------
--
-- An inbox's opening hours are one integer[22], "week": week[1..7] the opening and week[8..14]
-- the closing time of each weekday (Sunday first) in seconds since local midnight, a closed day
-- having both 0; week[15..21] the open seconds of the week before each weekday and week[22] the
-- week's total. NULL means open around the clock (working hours not enabled).

-- analytics.week_hours applies Chatwoot's rules to an inbox's working_hours rows (parallel
-- arrays, ordered by weekday then id: a later row of the same weekday wins): closed_all_day is
-- closed; open_all_day is open the whole day; otherwise open from open_hour:open_minutes to
-- close_hour:close_minutes, 23:59 meaning the end of the day, a close at or before the open (or a
-- time out of range) meaning closed. A weekday without a row is closed.
CREATE FUNCTION analytics.week_hours(days integer[], closed boolean[], open_all boolean[],
                                     open_hour integer[], open_minutes integer[],
                                     close_hour integer[], close_minutes integer[])
    RETURNS integer[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    o  integer[] := array_fill(0, ARRAY[7]);
    c  integer[] := array_fill(0, ARRAY[7]);
    op integer;
    cl integer;
    k  integer;
    p  integer := 0;
    w  integer[];
BEGIN
    FOR i IN 1 .. coalesce(cardinality(days), 0) LOOP
        k := days[i];
        CONTINUE WHEN k IS NULL OR k NOT BETWEEN 0 AND 6;
        o[k + 1] := 0;
        c[k + 1] := 0;
        IF coalesce(closed[i], false) THEN
            CONTINUE;
        ELSIF coalesce(open_all[i], false) THEN
            c[k + 1] := 86400;
        ELSIF open_hour[i] BETWEEN 0 AND 23 AND open_minutes[i] BETWEEN 0 AND 59
              AND close_hour[i] BETWEEN 0 AND 23 AND close_minutes[i] BETWEEN 0 AND 59 THEN
            op := open_hour[i] * 3600 + open_minutes[i] * 60;
            cl := CASE WHEN close_hour[i] = 23 AND close_minutes[i] = 59 THEN 86400
                       ELSE close_hour[i] * 3600 + close_minutes[i] * 60 END;
            IF cl > op THEN
                o[k + 1] := op;
                c[k + 1] := cl;
            END IF;
        END IF;
    END LOOP;
    w := o || c;
    FOR d IN 1 .. 7 LOOP
        w := w || p;
        p := p + c[d] - o[d];
    END LOOP;
    RETURN w || p;
END
$$;
COMMENT ON FUNCTION analytics.week_hours(integer[], boolean[], boolean[], integer[], integer[], integer[], integer[]) IS
    'An inbox''s opening hours (integer[22], see analytics.inboxes.week) from its Chatwoot working_hours rows.';
GRANT EXECUTE ON FUNCTION analytics.week_hours(integer[], boolean[], boolean[], integer[], integer[], integer[], integer[])
    TO geniai_tenant, geniai_staff, geniai_etl;

-- Local wall-clock time as microseconds since Sunday 2000-01-02 00:00: cheap arithmetic instead
-- of a timezone conversion per open interval. date_part's float error (about 0.1 µs at these
-- magnitudes) is removed by rounding to the microsecond.
CREATE FUNCTION analytics.wall_us(t timestamptz, tz text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT round(date_part('epoch', (t AT TIME ZONE tz) - timestamp '2000-01-02') * 1000000)::bigint $$;
COMMENT ON FUNCTION analytics.wall_us(timestamptz, text) IS 'Local wall-clock time of t in tz, in microseconds since Sunday 2000-01-02 00:00 local.';
GRANT EXECUTE ON FUNCTION analytics.wall_us(timestamptz, text) TO geniai_tenant, geniai_staff, geniai_etl;

-- Open microseconds of the week pattern from the epoch to wall-clock time s (s >= 0).
CREATE FUNCTION analytics.open_us(s bigint, week integer[]) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT (s / 604800000000) * week[22] * 1000000::bigint
         + week[15 + ((s / 86400000000) % 7)::integer] * 1000000::bigint
         + least(greatest(s % 86400000000 - week[1 + ((s / 86400000000) % 7)::integer] * 1000000::bigint, 0),
                 (week[8 + ((s / 86400000000) % 7)::integer] - week[1 + ((s / 86400000000) % 7)::integer]) * 1000000::bigint)
$$;
COMMENT ON FUNCTION analytics.open_us(bigint, integer[]) IS 'Open microseconds of an opening-hours week from the wall-clock epoch (analytics.wall_us) to s.';
GRANT EXECUTE ON FUNCTION analytics.open_us(bigint, integer[]) TO geniai_tenant, geniai_staff, geniai_etl;

-- Exact business seconds day by day: each local day's open interval becomes two instants with
-- PostgreSQL's AT TIME ZONE (a local time in a DST gap maps forward), clipped to [a, b].
CREATE FUNCTION analytics.business_seconds_by_day(a timestamptz, b timestamptz, tz text, week integer[])
    RETURNS double precision
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(sum(greatest(0, date_part('epoch', least(b, x.e) - greatest(a, x.s)))), 0)::double precision
    FROM generate_series(date_trunc('day', a AT TIME ZONE tz), date_trunc('day', b AT TIME ZONE tz), interval '1 day') AS d(day)
    CROSS JOIN LATERAL (SELECT 1 + date_part('dow', d.day)::integer AS k) AS k
    CROSS JOIN LATERAL (SELECT (d.day + make_interval(secs => week[k.k])) AT TIME ZONE tz AS s,
                               (d.day + make_interval(secs => week[7 + k.k])) AT TIME ZONE tz AS e) AS x
    WHERE week[k.k] < week[7 + k.k]
$$;
COMMENT ON FUNCTION analytics.business_seconds_by_day(timestamptz, timestamptz, text, integer[]) IS
    'Business seconds between a and b, one local day at a time (exact across DST changes); analytics.business_seconds uses it where the offset changes.';
GRANT EXECUTE ON FUNCTION analytics.business_seconds_by_day(timestamptz, timestamptz, text, integer[]) TO geniai_tenant, geniai_staff, geniai_etl;

-- Business seconds between two instants: the seconds of [a, b] inside the opening hours, in
-- timezone tz; fractions kept; 0 when b is not after a; NULL when either is NULL; b - a when
-- week is NULL (open around the clock). Week by week: where the UTC offset is the same at both
-- ends of a week, no DST change lies inside it (no zone changes its offset twice within a week)
-- and local wall-clock arithmetic is exact; a week with a change is counted day by day.
CREATE FUNCTION analytics.business_seconds(a timestamptz, b timestamptz, tz text, week integer[])
    RETURNS double precision
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
DECLARE
    s      timestamptz := a;
    e      timestamptz;
    ws     bigint;
    we     bigint;
    us     bigint := 0;
    by_day double precision := 0;
BEGIN
    IF a IS NULL OR b IS NULL THEN
        RETURN NULL;
    ELSIF b <= a THEN
        RETURN 0;
    ELSIF week IS NULL THEN
        RETURN date_part('epoch', b - a);
    ELSIF week[22] = 0 THEN
        RETURN 0;
    END IF;
    LOOP
        e := least(b, s + interval '168 hours');
        ws := analytics.wall_us(s, tz);
        we := analytics.wall_us(e, tz);
        IF ws >= 0 AND abs((we - ws) - date_part('epoch', e - s) * 1000000) < 1000000 THEN
            us := us + analytics.open_us(we, week) - analytics.open_us(ws, week);
        ELSE
            by_day := by_day + analytics.business_seconds_by_day(s, e, tz, week);
        END IF;
        EXIT WHEN e >= b;
        s := e;
    END LOOP;
    RETURN us / 1000000::double precision + by_day;
END
$$;
COMMENT ON FUNCTION analytics.business_seconds(timestamptz, timestamptz, text, integer[]) IS
    'Seconds of [a, b] inside opening hours (analytics.inboxes.week) in timezone tz; b - a when week is NULL.';
GRANT EXECUTE ON FUNCTION analytics.business_seconds(timestamptz, timestamptz, text, integer[]) TO geniai_tenant, geniai_staff, geniai_etl;

-- analytics.business_seconds for callers that already hold both instants' analytics.wall_us (the
-- merge computes each instant's once): a plain expression the planner inlines, exact for spans
-- of up to a week without an offset change, and analytics.business_seconds otherwise.
CREATE FUNCTION analytics.business_seconds_at(a timestamptz, b timestamptz, wa bigint, wb bigint, tz text, week integer[])
    RETURNS double precision
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN a IS NULL OR b IS NULL THEN NULL
        WHEN b <= a THEN 0::double precision
        WHEN week IS NULL THEN date_part('epoch', b - a)
        WHEN b - a <= interval '168 hours' AND wa >= 0
             AND abs((wb - wa) - date_part('epoch', b - a) * 1000000) < 1000000
            THEN (analytics.open_us(wb, week) - analytics.open_us(wa, week)) / 1000000::double precision
        ELSE analytics.business_seconds(a, b, tz, week)
    END
$$;
COMMENT ON FUNCTION analytics.business_seconds_at(timestamptz, timestamptz, bigint, bigint, text, integer[]) IS
    'analytics.business_seconds(a, b, tz, week) given wa and wb, the analytics.wall_us of a and b.';
GRANT EXECUTE ON FUNCTION analytics.business_seconds_at(timestamptz, timestamptz, bigint, bigint, text, integer[]) TO geniai_tenant, geniai_staff, geniai_etl;

-- The instant after which more than secs business seconds have passed since a: the latest t with
-- analytics.business_seconds(a, t) <= secs. A wait is past its target exactly when its end (or
-- the clock) is after this instant; when the target is reached at a closing time, the instant is
-- the next opening (business time stands still in between). NULL when the inbox never opens.
CREATE FUNCTION analytics.business_add(a timestamptz, secs double precision, tz text, week integer[])
    RETURNS timestamptz
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
DECLARE
    rem double precision := secs;
    d   timestamp;
    k   integer;
    s   timestamptz;
    e   timestamptz;
    len double precision;
BEGIN
    IF a IS NULL OR secs IS NULL THEN
        RETURN NULL;
    ELSIF week IS NULL THEN
        RETURN a + make_interval(secs => secs);
    ELSIF week[22] = 0 THEN
        RETURN NULL;
    END IF;
    d := date_trunc('day', a AT TIME ZONE tz);
    -- A week with an open second is enough to place any target of up to a year.
    FOR i IN 0 .. 400 LOOP
        k := 1 + date_part('dow', d)::integer;
        IF week[k] < week[7 + k] THEN
            s := greatest(a, (d + make_interval(secs => week[k])) AT TIME ZONE tz);
            e := (d + make_interval(secs => week[7 + k])) AT TIME ZONE tz;
            IF e > s THEN
                len := date_part('epoch', e - s);
                IF len > rem THEN
                    RETURN s + make_interval(secs => rem);
                END IF;
                rem := rem - len;
            END IF;
        END IF;
        d := d + interval '1 day';
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.business_add(timestamptz, double precision, text, integer[]) IS
    'Latest instant t with analytics.business_seconds(a, t, tz, week) <= secs: a wait that lasts past it exceeds secs of business time.';
GRANT EXECUTE ON FUNCTION analytics.business_add(timestamptz, double precision, text, integer[]) TO geniai_tenant, geniai_staff, geniai_etl;

-- Whether the opening hours are open at instant t (its local weekday and time of day).
CREATE FUNCTION analytics.is_open_at(t timestamptz, tz text, week integer[]) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
DECLARE
    s bigint;
    k integer;
    r bigint;
BEGIN
    IF week IS NULL THEN
        RETURN true;
    END IF;
    s := analytics.wall_us(t, tz);
    k := 1 + ((s / 86400000000) % 7)::integer;
    r := s % 86400000000;
    RETURN r >= week[k] * 1000000::bigint AND r < week[7 + k] * 1000000::bigint;
END
$$;
COMMENT ON FUNCTION analytics.is_open_at(timestamptz, text, integer[]) IS 'True when instant t falls inside the opening hours (always, when week is NULL).';
GRANT EXECUTE ON FUNCTION analytics.is_open_at(timestamptz, text, integer[]) TO geniai_tenant, geniai_staff, geniai_etl;

-- The queue (docs/metrics.md): a conversation awaits a person when it is open and the contact
-- wrote after the latest human message (or wrote, and no human ever did); it waits since the
-- later of the first such contact message and the bot's request for a person, when that request
-- came after the latest human message. NULL when not awaiting.
CREATE FUNCTION analytics.waiting_since(status smallint, last_contact_at timestamptz, last_human_at timestamptz,
                                        waiting_contact_at timestamptz, handoff_requested_at timestamptz)
    RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN status = 0 AND last_contact_at IS NOT NULL AND (last_human_at IS NULL OR last_contact_at > last_human_at)
                THEN greatest(waiting_contact_at,
                              CASE WHEN last_human_at IS NULL OR handoff_requested_at > last_human_at THEN handoff_requested_at END)
           END
$$;
COMMENT ON FUNCTION analytics.waiting_since(smallint, timestamptz, timestamptz, timestamptz, timestamptz) IS
    'When an open conversation started awaiting a person (NULL: not awaiting); waiting_contact_at is the first contact message after the latest human message (the first contact message when no human wrote).';
GRANT EXECUTE ON FUNCTION analytics.waiting_since(smallint, timestamptz, timestamptz, timestamptz, timestamptz) TO geniai_tenant, geniai_staff, geniai_etl;

-- The WhatsApp window: free-form replies are allowed until 24 h after the contact's last message.
CREATE FUNCTION analytics.window_closes_at(channel_type text, last_contact_at timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN channel_type = 'Channel::Whatsapp' THEN last_contact_at + interval '24 hours' END $$;
COMMENT ON FUNCTION analytics.window_closes_at(text, timestamptz) IS 'End of the WhatsApp 24-hour window (WhatsApp inboxes only; NULL for other channels).';
GRANT EXECUTE ON FUNCTION analytics.window_closes_at(text, timestamptz) TO geniai_tenant, geniai_staff, geniai_etl;

-- 3. The tenant's inboxes as Chatwoot describes them ------------------------------------------

CREATE TABLE analytics.inboxes (
    tenant_id       bigint    NOT NULL,
    inbox_id        integer   NOT NULL,
    channel_type    text      NOT NULL DEFAULT '',
    source_timezone text      NOT NULL DEFAULT '',
    timezone        text,
    hours_enabled   boolean   NOT NULL DEFAULT false,
    week            integer[],
    signature       text      NOT NULL,
    synced_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, inbox_id),
    CONSTRAINT inboxes_week_shape CHECK (week IS NULL OR (cardinality(week) = 22 AND array_ndims(week) = 1)),
    CONSTRAINT inboxes_week_enabled CHECK ((week IS NOT NULL) = hours_enabled)
);
COMMENT ON TABLE analytics.inboxes IS 'The tenant''s Chatwoot inboxes as the last sync read them: channel, timezone and opening hours. Written by etl.sync_inboxes.';
COMMENT ON COLUMN analytics.inboxes.source_timezone IS 'inboxes.timezone as Chatwoot stores it (may be empty or unknown).';
COMMENT ON COLUMN analytics.inboxes.timezone IS 'source_timezone when PostgreSQL knows it; NULL means the tenant''s timezone applies.';
COMMENT ON COLUMN analytics.inboxes.week IS 'Opening hours (analytics.week_hours) when working hours are enabled; NULL: open around the clock. [1..7] open and [8..14] close, seconds since local midnight, Sunday first; [15..21] open seconds of the week before each weekday; [22] the week''s total.';
COMMENT ON COLUMN analytics.inboxes.signature IS 'Hash of the source rows (inbox and working_hours) the row was built from; the no-change check compares it.';

ALTER TABLE analytics.inboxes ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.inboxes FORCE ROW LEVEL SECURITY;
CREATE POLICY inboxes_tenant_read ON analytics.inboxes FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY inboxes_staff_read ON analytics.inboxes FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY inboxes_etl_all ON analytics.inboxes FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON analytics.inboxes TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT, DELETE ON analytics.inboxes TO geniai_etl;
GRANT UPDATE (channel_type, source_timezone, timezone, hours_enabled, week, signature, synced_at)
    ON analytics.inboxes TO geniai_etl;

-- 4. Per-conversation columns -------------------------------------------------------------------

ALTER TABLE analytics.conversations
    ADD COLUMN handoff_requested_at timestamptz,
    ADD COLUMN last_contact_at timestamptz,
    ADD COLUMN last_human_at timestamptz,
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN first_reply_business_seconds double precision,
    ADD COLUMN first_human_reply_business_seconds double precision,
    ADD COLUMN resolution_business_seconds double precision,
    ADD COLUMN human_wait_from timestamptz,
    ADD COLUMN human_wait_reply_at timestamptz,
    ADD COLUMN human_wait_seconds double precision,
    ADD COLUMN human_wait_business_seconds double precision,
    ADD COLUMN human_wait_due_at timestamptz,
    ADD COLUMN waiting_since timestamptz,
    ADD COLUMN waiting_due_at timestamptz,
    ADD COLUMN window_closes_at timestamptz;
COMMENT ON COLUMN analytics.conversations.handoff_requested_at IS 'event_end_time of the latest conversation_bot_handoff reporting event: the bot asked for a person ("pedido de atendente").';
COMMENT ON COLUMN analytics.conversations.last_contact_at IS 'The contact''s last public message.';
COMMENT ON COLUMN analytics.conversations.last_human_at IS 'The latest human (agent) public message.';
COMMENT ON COLUMN analytics.conversations.resolved_at IS 'Resolved only: the end of resolution_seconds (latest conversation_resolved event_end_time, else last_activity_at).';
COMMENT ON COLUMN analytics.conversations.first_reply_business_seconds IS 'first_reply_seconds counted inside the inbox''s opening hours only (same two instants).';
COMMENT ON COLUMN analytics.conversations.first_human_reply_business_seconds IS 'first_human_reply_seconds counted inside the inbox''s opening hours only.';
COMMENT ON COLUMN analytics.conversations.resolution_business_seconds IS 'resolution_seconds counted inside the inbox''s opening hours only.';
COMMENT ON COLUMN analytics.conversations.human_wait_from IS 'Start of the first wait for a person: handoff_requested_at when set, else the first contact message when no bot wrote at all; NULL otherwise.';
COMMENT ON COLUMN analytics.conversations.human_wait_reply_at IS 'The first human message at or after human_wait_from; NULL while nobody answered.';
COMMENT ON COLUMN analytics.conversations.human_wait_seconds IS 'human_wait_reply_at - human_wait_from (answered waits only).';
COMMENT ON COLUMN analytics.conversations.human_wait_business_seconds IS 'The first wait for a person in business seconds (answered waits only): what the SLA measures.';
COMMENT ON COLUMN analytics.conversations.human_wait_due_at IS 'Unanswered first waits only: the instant after which the wait exceeds the tenant''s SLA target in business time (analytics.business_add).';
COMMENT ON COLUMN analytics.conversations.waiting_since IS 'Awaiting a person (open, the contact wrote after the latest human message): since when (analytics.waiting_since); NULL when not awaiting.';
COMMENT ON COLUMN analytics.conversations.waiting_due_at IS 'Awaiting only: the instant after which the current wait exceeds the SLA target in business time.';
COMMENT ON COLUMN analytics.conversations.window_closes_at IS 'WhatsApp inboxes only: the contact''s last message + 24 h, when free-form replies stop being allowed.';
ALTER TABLE analytics.conversations
    ADD CONSTRAINT conversations_business_seconds_check CHECK (
        first_reply_business_seconds >= 0 AND first_human_reply_business_seconds >= 0
        AND resolution_business_seconds >= 0 AND human_wait_seconds >= 0 AND human_wait_business_seconds >= 0) NOT VALID;
GRANT UPDATE (handoff_requested_at, last_contact_at, last_human_at, resolved_at, first_reply_business_seconds,
              first_human_reply_business_seconds, resolution_business_seconds, human_wait_from, human_wait_reply_at,
              human_wait_seconds, human_wait_business_seconds, human_wait_due_at, waiting_since, waiting_due_at,
              window_closes_at)
    ON analytics.conversations TO geniai_etl;

-- The queue reads the awaiting conversations of a tenant oldest first; SLA figures count the
-- unanswered first waits of a period.
CREATE INDEX conversations_waiting_idx ON analytics.conversations (tenant_id, waiting_since, conversation_id)
    WHERE waiting_since IS NOT NULL;
CREATE INDEX conversations_wait_unanswered_idx ON analytics.conversations (tenant_id, created_day, human_wait_due_at)
    WHERE human_wait_from IS NOT NULL AND human_wait_reply_at IS NULL;

ALTER TABLE etl.stage_conversations
    ADD COLUMN handoff_requested_at timestamptz,
    ADD COLUMN last_contact_at timestamptz,
    ADD COLUMN last_human_at timestamptz,
    ADD COLUMN waiting_contact_at timestamptz,
    ADD COLUMN human_wait_from timestamptz,
    ADD COLUMN human_wait_reply_at timestamptz;
COMMENT ON COLUMN etl.stage_conversations.waiting_contact_at IS 'The first contact message after the latest human message (the first contact message when no human wrote).';

-- Rows loaded before these columns existed lack them: the next run of each tenant re-reads all
-- of its conversations (reread_all), then clears the flag.
ALTER TABLE etl.watermarks ADD COLUMN reread_all boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN etl.watermarks.reread_all IS 'The next run extracts every conversation of the tenant (a migration added extracted columns); cleared by a successful merge.';
GRANT UPDATE (reread_all) ON etl.watermarks TO geniai_etl;
ALTER TABLE etl.watermarks NO FORCE ROW LEVEL SECURITY;
UPDATE etl.watermarks SET reread_all = true;
ALTER TABLE etl.watermarks FORCE ROW LEVEL SECURITY;

-- 5. Applying opening hours -------------------------------------------------------------------

-- Recomputes the business-time columns and SLA instants of the current tenant's conversations of
-- the given inboxes (NULL: all) from stored instants and the stored opening hours, timezone and
-- SLA target, and notes their days for the run's rollup refresh.
CREATE FUNCTION etl.apply_business_hours(p_run_id bigint, p_inboxes integer[])
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    AS $$
DECLARE
    t   bigint := app.current_tenant_id();
    tz  text;
    sla integer;
BEGIN
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    SELECT ts.sla_seconds INTO STRICT sla FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    WITH x AS (
        SELECT c.conversation_id,
               analytics.business_seconds(c.first_contact_at, c.first_reply_at, coalesce(ib.timezone, tz), ib.week) AS frb,
               analytics.business_seconds(c.first_contact_at, c.first_human_reply_at, coalesce(ib.timezone, tz), ib.week) AS fhb,
               analytics.business_seconds(c.created_at, c.resolved_at, coalesce(ib.timezone, tz), ib.week) AS rb,
               analytics.business_seconds(c.human_wait_from, c.human_wait_reply_at, coalesce(ib.timezone, tz), ib.week) AS hwb,
               CASE WHEN c.human_wait_reply_at IS NULL
                    THEN analytics.business_add(c.human_wait_from, sla, coalesce(ib.timezone, tz), ib.week) END AS hwd,
               analytics.business_add(c.waiting_since, sla, coalesce(ib.timezone, tz), ib.week) AS wd
        FROM analytics.conversations c
        LEFT JOIN analytics.inboxes ib ON ib.tenant_id = t AND ib.inbox_id = c.inbox_id
        WHERE c.tenant_id = t AND (p_inboxes IS NULL OR c.inbox_id = ANY (p_inboxes))
    ), up AS (
        UPDATE analytics.conversations c
        SET first_reply_business_seconds = x.frb, first_human_reply_business_seconds = x.fhb,
            resolution_business_seconds = x.rb, human_wait_business_seconds = x.hwb,
            human_wait_due_at = x.hwd, waiting_due_at = x.wd
        FROM x
        WHERE c.tenant_id = t AND c.conversation_id = x.conversation_id
          AND (c.first_reply_business_seconds, c.first_human_reply_business_seconds, c.resolution_business_seconds,
               c.human_wait_business_seconds, c.human_wait_due_at, c.waiting_due_at)
              IS DISTINCT FROM (x.frb, x.fhb, x.rb, x.hwb, x.hwd, x.wd)
        RETURNING c.created_day
    )
    INSERT INTO etl.stage_days (run_id, day)
    SELECT DISTINCT p_run_id, up.created_day FROM up;
END
$$;
COMMENT ON FUNCTION etl.apply_business_hours(bigint, integer[]) IS
    'Re-applies opening hours, timezones and the SLA target to the stored conversations of the given inboxes (NULL: all) of the current tenant; their days go to etl.stage_days.';
GRANT EXECUTE ON FUNCTION etl.apply_business_hours(bigint, integer[]) TO geniai_etl;

-- Stores the tenant's inboxes as the source describes them (parallel arrays: one entry per
-- inbox, and one per working_hours row, ordered by inbox, weekday and id) and re-applies the
-- opening hours of every inbox whose description changed. Returns the inboxes whose timezone
-- PostgreSQL does not know (the tenant's applies to them), for the run to log.
CREATE FUNCTION etl.sync_inboxes(p_run_id bigint, p_ids integer[], p_channels text[], p_timezones text[],
                                 p_enabled boolean[], p_signatures text[], p_wh_inboxes integer[], p_wh_days integer[],
                                 p_wh_closed boolean[], p_wh_open_all boolean[], p_wh_open_hours integer[],
                                 p_wh_open_minutes integer[], p_wh_close_hours integer[], p_wh_close_minutes integer[])
    RETURNS TABLE (inbox_id integer, source_timezone text)
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    AS $$
DECLARE
    t       bigint := app.current_tenant_id();
    changed integer[];
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.sync_inboxes: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.sync_inboxes: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    WITH src AS (
        SELECT i.id AS inbox_id, coalesce(i.channel, '') AS channel_type, coalesce(i.tz, '') AS source_timezone,
               CASE WHEN app.is_valid_timezone(i.tz) THEN i.tz END AS timezone,
               coalesce(i.enabled, false) AS hours_enabled,
               CASE WHEN coalesce(i.enabled, false) THEN
                   (SELECT analytics.week_hours(array_agg(w.day ORDER BY w.n), array_agg(w.closed ORDER BY w.n),
                                                array_agg(w.open_all ORDER BY w.n), array_agg(w.oh ORDER BY w.n),
                                                array_agg(w.om ORDER BY w.n), array_agg(w.ch ORDER BY w.n),
                                                array_agg(w.cm ORDER BY w.n))
                    FROM unnest(p_wh_inboxes, p_wh_days, p_wh_closed, p_wh_open_all, p_wh_open_hours, p_wh_open_minutes,
                                p_wh_close_hours, p_wh_close_minutes) WITH ORDINALITY AS w(inbox, day, closed, open_all, oh, om, ch, cm, n)
                    WHERE w.inbox = i.id)
               END AS week,
               i.sig AS signature
        FROM unnest(p_ids, p_channels, p_timezones, p_enabled, p_signatures) AS i(id, channel, tz, enabled, sig)
        -- only the tenant's inboxes, whatever the caller passed
        WHERE i.id IN (SELECT ti.inbox_id FROM app.tenant_inboxes ti WHERE ti.tenant_id = t)
    ), up AS (
        INSERT INTO analytics.inboxes AS ib (tenant_id, inbox_id, channel_type, source_timezone, timezone, hours_enabled,
                                             week, signature, synced_at)
        SELECT t, s.inbox_id, s.channel_type, s.source_timezone, s.timezone, s.hours_enabled, s.week, s.signature, now()
        FROM src s
        WHERE NOT EXISTS (SELECT FROM analytics.inboxes x WHERE x.tenant_id = t AND x.inbox_id = s.inbox_id
                                                             AND x.signature = s.signature)
        ON CONFLICT ON CONSTRAINT inboxes_pkey DO UPDATE SET
            channel_type = EXCLUDED.channel_type, source_timezone = EXCLUDED.source_timezone,
            timezone = EXCLUDED.timezone, hours_enabled = EXCLUDED.hours_enabled, week = EXCLUDED.week,
            signature = EXCLUDED.signature, synced_at = EXCLUDED.synced_at
        RETURNING ib.inbox_id
    ), gone AS (
        DELETE FROM analytics.inboxes ib
        WHERE ib.tenant_id = t AND ib.inbox_id NOT IN (SELECT s.inbox_id FROM src s)
        RETURNING ib.inbox_id
    )
    SELECT ARRAY(SELECT up.inbox_id FROM up UNION SELECT gone.inbox_id FROM gone) INTO changed;

    IF cardinality(changed) > 0 THEN
        PERFORM etl.apply_business_hours(p_run_id, changed);
    END IF;

    RETURN QUERY SELECT ib.inbox_id, ib.source_timezone FROM analytics.inboxes ib
                 WHERE ib.tenant_id = t AND ib.timezone IS NULL ORDER BY 1;
END
$$;
COMMENT ON FUNCTION etl.sync_inboxes(bigint, integer[], text[], text[], boolean[], text[], integer[], integer[], boolean[], boolean[], integer[], integer[], integer[], integer[]) IS
    'Stores the current tenant''s inboxes (channel, timezone, opening hours) as read from the source and re-applies the opening hours of those that changed; returns the inboxes whose timezone is unknown.';
GRANT EXECUTE ON FUNCTION etl.sync_inboxes(bigint, integer[], text[], text[], boolean[], text[], integer[], integer[], boolean[], boolean[], integer[], integer[], integer[], integer[]) TO geniai_etl;

-- 6. The merge ----------------------------------------------------------------------------------


CREATE OR REPLACE FUNCTION etl.merge_chunk(p_run_id bigint, p_chunk integer)
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    SET work_mem = '64MB'
    AS $$
DECLARE
    t          bigint := app.current_tenant_id();
    s          app.tenant_settings;
    tz         text;
    sla        integer;
    has_regex  boolean;
    v_existing integer[];
    v_days     date[];
    v_extract  integer;
    v_ins      integer;
    v_upd      integer;
    v_msgs     integer;
    v_n        integer;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.merge_chunk: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.merge_chunk: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT count(*)::integer INTO v_extract FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk;
    IF v_extract = 0 THEN
        RETURN;
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    sla := s.sla_seconds;
    -- Contact texts are only gathered when a rule has a regular expression.
    has_regex := s.lead_regex IS NOT NULL OR s.visit_regex IS NOT NULL OR s.converted_regex IS NOT NULL;

    -- Extracted conversations already stored: only these are compared and can lose messages;
    -- every other extracted conversation (all of them on a first load) is a plain INSERT.
    -- One primary-key probe per staged row, whatever the statistics say: during a first load the
    -- tenant's rows are all new, its statistics say it has none, and a join planned from that side
    -- rescans the chunk for every row already inserted (minutes per chunk on a large tenant).
    v_existing := etl.stored_conversations(t, ARRAY(
        SELECT sc.conversation_id FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk));

    -- Days that lose rows: current days of stored conversations about to change.
    IF cardinality(v_existing) > 0 THEN
        SELECT array_agg(DISTINCT c.created_day) INTO v_days
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_existing));
    END IF;

    v_ins := 0;
    v_upd := 0;
    v_msgs := 0;
    BEGIN
        -- One statement, so the staged rows and their derived columns (days and hours in the
        -- tenant's timezone, DESIGN §5 flags, funnel stage) are computed once: stored conversations
        -- are rewritten only when something differs; new ones (all of a first load) are plain INSERTs.
        -- The transcript and search words arrive grouped per conversation (internal/etl), in the
        -- conversation's staging row: staging is never analysed, and a grouped join of staged
        -- messages planned from its estimates re-aggregated the whole chunk for every conversation.
        -- Business time (docs/metrics.md): each instant's local wall-clock time is computed once
        -- (x is fenced with OFFSET 0, so its columns are not re-expanded into every expression
        -- that reads them), and analytics.business_seconds_at is plain arithmetic on them.
        WITH x AS (
            SELECT sc.*,
                   (sc.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN etl.funnel_stage(s, sc.labels, analytics.contact_texts(sc.message_senders, sc.message_contents), sc.contact_messages)
                        ELSE etl.funnel_stage_labels(s, sc.labels, sc.contact_messages) END AS stage,
                   array_to_tsvector(sc.search_words) AS search,
                   r.resolved_at, ib.week, h.itz,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.first_contact_at, h.itz) END AS w_first_contact,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.first_reply_at, h.itz) END AS w_first_reply,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.first_human_reply_at, h.itz) END AS w_first_human,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.created_at, h.itz) END AS w_created,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(r.resolved_at, h.itz) END AS w_resolved,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.human_wait_from, h.itz) END AS w_wait_from,
                   CASE WHEN ib.week IS NOT NULL THEN analytics.wall_us(sc.human_wait_reply_at, h.itz) END AS w_wait_reply,
                   analytics.waiting_since(sc.status, sc.last_contact_at, sc.last_human_at, sc.waiting_contact_at,
                                           sc.handoff_requested_at) AS waiting_since
            FROM etl.stage_conversations sc
            LEFT JOIN analytics.inboxes ib ON ib.tenant_id = t AND ib.inbox_id = sc.inbox_id
            CROSS JOIN LATERAL (SELECT coalesce(ib.timezone, tz) AS itz) h
            CROSS JOIN LATERAL (SELECT CASE WHEN sc.status = 1 THEN coalesce(sc.resolved_event_at, sc.last_activity_at) END AS resolved_at) r
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk
            OFFSET 0
        ), src AS (
            SELECT t AS tenant_id, x.conversation_id, x.account_id, x.inbox_id, x.display_id, x.channel_type,
                   x.status, x.priority, x.contact_id, x.contact_name, x.contact_phone, x.assignee_id, x.team_id,
                   x.labels, x.created_at, x.updated_at AS source_updated_at, x.last_activity_at,
                   x.local_created::date AS created_day,
                   extract(hour FROM x.local_created)::smallint AS created_hour,
                   extract(dow FROM x.local_created)::smallint AS created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at,
                   extract(epoch FROM x.first_reply_at - x.first_contact_at)::double precision AS first_reply_seconds,
                   x.first_human_reply_at,
                   extract(epoch FROM x.first_human_reply_at - x.first_contact_at)::double precision AS first_human_reply_seconds,
                   x.last_message_at,
                   x.contact_messages > 0 AND x.first_reply_at IS NULL AS unanswered,
                   x.status = 1 AS resolved,
                   x.handoff,
                   x.status = 1 AND x.bot_messages > 0 AND x.human_messages = 0 AS bot_resolved,
                   CASE WHEN x.status = 1 THEN greatest(0, extract(epoch FROM coalesce(x.resolved_event_at, x.last_activity_at) - x.created_at))::double precision END AS resolution_seconds,
                   x.csat_rating, x.csat_at,
                   x.stage >= 1 AS is_lead, x.stage >= 2 AS is_visit, x.stage >= 3 AS is_converted,
                   now() AS loaded_at, x.search,
                   x.handoff_requested_at, x.last_contact_at, x.last_human_at, x.resolved_at,
                   analytics.business_seconds_at(x.first_contact_at, x.first_reply_at, x.w_first_contact, x.w_first_reply, x.itz, x.week) AS first_reply_business_seconds,
                   analytics.business_seconds_at(x.first_contact_at, x.first_human_reply_at, x.w_first_contact, x.w_first_human, x.itz, x.week) AS first_human_reply_business_seconds,
                   analytics.business_seconds_at(x.created_at, x.resolved_at, x.w_created, x.w_resolved, x.itz, x.week) AS resolution_business_seconds,
                   x.human_wait_from, x.human_wait_reply_at,
                   extract(epoch FROM x.human_wait_reply_at - x.human_wait_from)::double precision AS human_wait_seconds,
                   analytics.business_seconds_at(x.human_wait_from, x.human_wait_reply_at, x.w_wait_from, x.w_wait_reply, x.itz, x.week) AS human_wait_business_seconds,
                   CASE WHEN x.human_wait_reply_at IS NULL THEN analytics.business_add(x.human_wait_from, sla, x.itz, x.week) END AS human_wait_due_at,
                   x.waiting_since,
                   analytics.business_add(x.waiting_since, sla, x.itz, x.week) AS waiting_due_at,
                   analytics.window_closes_at(x.channel_type, x.last_contact_at) AS window_closes_at
            FROM x
        ), up AS (
            UPDATE analytics.conversations c SET
                account_id = x.account_id, inbox_id = x.inbox_id, display_id = x.display_id,
                channel_type = x.channel_type, status = x.status, priority = x.priority,
                contact_id = x.contact_id, contact_name = x.contact_name,
                contact_phone = x.contact_phone, assignee_id = x.assignee_id,
                team_id = x.team_id, labels = x.labels, created_at = x.created_at,
                source_updated_at = x.source_updated_at, last_activity_at = x.last_activity_at,
                created_day = x.created_day, created_hour = x.created_hour,
                created_dow = x.created_dow, contact_messages = x.contact_messages,
                bot_messages = x.bot_messages, human_messages = x.human_messages,
                private_notes = x.private_notes, first_contact_at = x.first_contact_at,
                first_reply_at = x.first_reply_at, first_reply_seconds = x.first_reply_seconds,
                first_human_reply_at = x.first_human_reply_at,
                first_human_reply_seconds = x.first_human_reply_seconds,
                last_message_at = x.last_message_at, unanswered = x.unanswered,
                resolved = x.resolved, handoff = x.handoff, bot_resolved = x.bot_resolved,
                resolution_seconds = x.resolution_seconds, csat_rating = x.csat_rating,
                csat_at = x.csat_at, is_lead = x.is_lead, is_visit = x.is_visit,
                is_converted = x.is_converted, loaded_at = x.loaded_at, search = x.search,
                handoff_requested_at = x.handoff_requested_at, last_contact_at = x.last_contact_at,
                last_human_at = x.last_human_at, resolved_at = x.resolved_at,
                first_reply_business_seconds = x.first_reply_business_seconds,
                first_human_reply_business_seconds = x.first_human_reply_business_seconds,
                resolution_business_seconds = x.resolution_business_seconds,
                human_wait_from = x.human_wait_from, human_wait_reply_at = x.human_wait_reply_at,
                human_wait_seconds = x.human_wait_seconds, human_wait_business_seconds = x.human_wait_business_seconds,
                human_wait_due_at = x.human_wait_due_at, waiting_since = x.waiting_since,
                waiting_due_at = x.waiting_due_at, window_closes_at = x.window_closes_at
            FROM src x
            -- = ANY (v_existing): the rows to compare are known; a first load compares none, and
            -- the planner cannot drive the join from this tenant's mis-estimated fresh rows.
            -- cardinality first: a constant condition, so a first load skips the join entirely.
            WHERE cardinality(v_existing) > 0
              AND c.tenant_id = t AND c.conversation_id = ANY (v_existing) AND c.conversation_id = x.conversation_id
              AND (c.account_id, c.inbox_id, c.display_id, c.channel_type, c.status, c.priority, c.contact_id,
                   c.contact_name, c.contact_phone, c.assignee_id, c.team_id, c.labels, c.created_at,
                   c.source_updated_at, c.last_activity_at, c.created_day, c.created_hour, c.created_dow,
                   c.contact_messages, c.bot_messages, c.human_messages, c.private_notes, c.first_contact_at,
                   c.first_reply_at, c.first_reply_seconds, c.first_human_reply_at, c.first_human_reply_seconds,
                   c.last_message_at, c.unanswered, c.resolved, c.handoff, c.bot_resolved, c.resolution_seconds,
                   c.csat_rating, c.csat_at, c.is_lead, c.is_visit, c.is_converted, c.search,
                   c.handoff_requested_at, c.last_contact_at, c.last_human_at, c.resolved_at,
                   c.first_reply_business_seconds, c.first_human_reply_business_seconds, c.resolution_business_seconds,
                   c.human_wait_from, c.human_wait_reply_at, c.human_wait_seconds, c.human_wait_business_seconds,
                   c.human_wait_due_at, c.waiting_since, c.waiting_due_at, c.window_closes_at)
              IS DISTINCT FROM
                  (x.account_id, x.inbox_id, x.display_id, x.channel_type, x.status, x.priority, x.contact_id,
                   x.contact_name, x.contact_phone, x.assignee_id, x.team_id, x.labels, x.created_at,
                   x.source_updated_at, x.last_activity_at, x.created_day, x.created_hour, x.created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at, x.first_reply_seconds, x.first_human_reply_at, x.first_human_reply_seconds,
                   x.last_message_at, x.unanswered, x.resolved, x.handoff, x.bot_resolved, x.resolution_seconds,
                   x.csat_rating, x.csat_at, x.is_lead, x.is_visit, x.is_converted, x.search,
                   x.handoff_requested_at, x.last_contact_at, x.last_human_at, x.resolved_at,
                   x.first_reply_business_seconds, x.first_human_reply_business_seconds, x.resolution_business_seconds,
                   x.human_wait_from, x.human_wait_reply_at, x.human_wait_seconds, x.human_wait_business_seconds,
                   x.human_wait_due_at, x.waiting_since, x.waiting_due_at, x.window_closes_at)
            RETURNING c.created_day
        ), ins AS (
            INSERT INTO analytics.conversations (
                tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type, status, priority,
                contact_id, contact_name, contact_phone, assignee_id, team_id, labels, created_at,
                source_updated_at, last_activity_at, created_day, created_hour, created_dow,
                contact_messages, bot_messages, human_messages, private_notes, first_contact_at,
                first_reply_at, first_reply_seconds, first_human_reply_at, first_human_reply_seconds,
                last_message_at, unanswered, resolved, handoff, bot_resolved, resolution_seconds,
                csat_rating, csat_at, is_lead, is_visit, is_converted, loaded_at, search,
                handoff_requested_at, last_contact_at, last_human_at, resolved_at, first_reply_business_seconds,
                first_human_reply_business_seconds, resolution_business_seconds, human_wait_from, human_wait_reply_at,
                human_wait_seconds, human_wait_business_seconds, human_wait_due_at, waiting_since, waiting_due_at,
                window_closes_at)
            SELECT x.*
            FROM src x
            WHERE NOT EXISTS (SELECT FROM unnest(v_existing) e WHERE e = x.conversation_id)
            RETURNING created_day
        )
        SELECT (SELECT count(*)::integer FROM ins), (SELECT count(*)::integer FROM up),
               ARRAY(SELECT created_day FROM ins UNION SELECT created_day FROM up) || v_days
        INTO v_ins, v_upd, v_days;

        -- Transcripts of new conversations: plain INSERT, one row each.
        WITH ins AS (
            INSERT INTO analytics.transcripts (tenant_id, conversation_id, message_ids, message_created_at,
                                               message_senders, message_types, message_contents, message_deleted)
            SELECT t, sc.conversation_id, sc.message_ids, sc.message_created_at, sc.message_senders,
                   sc.message_types, sc.message_contents, sc.message_deleted
            FROM etl.stage_conversations sc
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk
              AND NOT EXISTS (SELECT FROM unnest(v_existing) e WHERE e = sc.conversation_id)
            RETURNING cardinality(message_ids) AS n
        )
        SELECT coalesce(sum(ins.n), 0)::integer INTO v_msgs FROM ins;

        IF cardinality(v_existing) > 0 THEN
            -- Transcripts of stored conversations: the run counts the staged messages the stored
            -- transcript lacks or holds otherwise (new, edited, deleted in Chatwoot), then the
            -- row is rewritten only if it differs.
            SELECT count(*)::integer INTO v_n
            FROM (SELECT sc.conversation_id, m.*
                  FROM etl.stage_conversations sc,
                       unnest(sc.message_ids, sc.message_created_at, sc.message_senders, sc.message_types,
                              sc.message_contents, sc.message_deleted) AS m(id, created_at, sender, message_type, content, deleted)
                  WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk AND sc.conversation_id = ANY (v_existing)
                  EXCEPT ALL
                  SELECT tr.conversation_id, m.*
                  FROM analytics.transcripts tr,
                       unnest(tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types,
                              tr.message_contents, tr.message_deleted) AS m(id, created_at, sender, message_type, content, deleted)
                  WHERE tr.tenant_id = t AND tr.conversation_id = ANY (v_existing)) changed;
            v_msgs := v_msgs + v_n;

            INSERT INTO analytics.transcripts AS tr (tenant_id, conversation_id, message_ids, message_created_at,
                                                     message_senders, message_types, message_contents, message_deleted)
            SELECT t, sc.conversation_id, sc.message_ids, sc.message_created_at, sc.message_senders,
                   sc.message_types, sc.message_contents, sc.message_deleted
            FROM etl.stage_conversations sc
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk AND sc.conversation_id = ANY (v_existing)
            ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET
                message_ids = EXCLUDED.message_ids, message_created_at = EXCLUDED.message_created_at,
                message_senders = EXCLUDED.message_senders, message_types = EXCLUDED.message_types,
                message_contents = EXCLUDED.message_contents, message_deleted = EXCLUDED.message_deleted
            WHERE (tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types,
                   tr.message_contents, tr.message_deleted)
                  IS DISTINCT FROM (EXCLUDED.message_ids, EXCLUDED.message_created_at, EXCLUDED.message_senders,
                                    EXCLUDED.message_types, EXCLUDED.message_contents, EXCLUDED.message_deleted);
        END IF;
    END;

    INSERT INTO etl.stage_days (run_id, day)
    SELECT DISTINCT p_run_id, d FROM unnest(v_days) d WHERE d IS NOT NULL;

    UPDATE etl.runs r
    SET extracted = r.extracted + v_extract, inserted = r.inserted + v_ins, updated = r.updated + v_upd,
        messages = r.messages + v_msgs
    WHERE r.tenant_id = t AND r.id = p_run_id;
END
$$;
COMMENT ON FUNCTION etl.merge_chunk(bigint, integer) IS
    'Merges one staged chunk of a running run of the current tenant (conversations with their metrics, one transcript row each, counts on etl.runs, affected days in etl.stage_days); etl.merge_run completes the run.';

CREATE OR REPLACE FUNCTION etl.merge_run(p_run_id bigint)
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    SET work_mem = '64MB'
    AS $$
DECLARE
    t          bigint := app.current_tenant_id();
    s          app.tenant_settings;
    tz         text;
    w          etl.watermarks;
    rebuild    boolean;
    has_regex  boolean;
    v_gone     integer[];
    v_days     date[];
    v_del      integer;
    v_max      timestamptz;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.merge_run: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.merge_run: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    SELECT * INTO w FROM etl.watermarks wm WHERE wm.tenant_id = t;
    -- Rebuild history when the timezone or the rules differ from what the stored rows used
    -- (no watermark yet but rows present that this run did not write: unknown, so rebuild too;
    -- rows this run wrote carry loaded_at = now(), the transaction's start).
    IF w.tenant_id IS NULL THEN
        rebuild := EXISTS (SELECT FROM analytics.conversations c WHERE c.tenant_id = t AND c.loaded_at <> now());
    ELSE
        rebuild := w.timezone IS DISTINCT FROM tz OR w.rules_version IS DISTINCT FROM s.rules_version;
    END IF;
    -- Contact texts are only gathered when a rule has a regular expression.
    has_regex := s.lead_regex IS NOT NULL OR s.visit_regex IS NOT NULL OR s.converted_regex IS NOT NULL;

    -- Stored conversations gone from the source (deleted, or their inbox no longer the tenant's).
    -- EXCEPT hashes both sides: staging is never analysed (the loader does not own it), so a
    -- correlated NOT EXISTS can be planned as a nested loop over mis-estimated rows and take
    -- minutes on a large tenant.
    v_gone := ARRAY(
        SELECT c.conversation_id FROM analytics.conversations c WHERE c.tenant_id = t
        EXCEPT
        SELECT si.conversation_id FROM etl.stage_ids si WHERE si.run_id = p_run_id);

    -- Days that lose rows: current days of conversations about to disappear.
    INSERT INTO etl.stage_days (run_id, day)
    SELECT DISTINCT p_run_id, c.created_day
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_gone));

    -- Reconcile deletions and inbox remapping: gone from the tenant's inboxes means gone here,
    -- with its transcript (no foreign key cascades it: see analytics.transcripts).
    v_del := cardinality(v_gone);
    IF v_del > 0 THEN
        DELETE FROM analytics.transcripts tr
        WHERE tr.tenant_id = t AND tr.conversation_id IN (SELECT unnest(v_gone));
        DELETE FROM analytics.conversations c
        WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_gone));
    END IF;

    v_days := ARRAY(SELECT DISTINCT sd.day FROM etl.stage_days sd WHERE sd.run_id = p_run_id);

    IF rebuild THEN
        -- Timezone, funnel rules, exclusion labels or SLA target changed: recompute from stored
        -- data, no source read.
        WITH cur AS (
            SELECT c.conversation_id,
                   (c.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN
                       etl.funnel_stage(s, c.labels,
                           coalesce((SELECT analytics.contact_texts(tr.message_senders, tr.message_contents)
                                     FROM analytics.transcripts tr
                                     WHERE tr.tenant_id = t AND tr.conversation_id = c.conversation_id), '{}'),
                           c.contact_messages)
                   ELSE etl.funnel_stage_labels(s, c.labels, c.contact_messages) END AS stage
            FROM analytics.conversations c
            WHERE c.tenant_id = t
        )
        UPDATE analytics.conversations c
        SET created_day = cur.local_created::date,
            created_hour = extract(hour FROM cur.local_created)::smallint,
            created_dow = extract(dow FROM cur.local_created)::smallint,
            is_lead = cur.stage >= 1, is_visit = cur.stage >= 2, is_converted = cur.stage >= 3
        FROM cur
        WHERE c.tenant_id = t AND c.conversation_id = cur.conversation_id
          AND (c.created_day, c.created_hour, c.created_dow, c.is_lead, c.is_visit, c.is_converted)
              IS DISTINCT FROM (cur.local_created::date, extract(hour FROM cur.local_created)::smallint,
                                extract(dow FROM cur.local_created)::smallint,
                                cur.stage >= 1, cur.stage >= 2, cur.stage >= 3);
        -- Business time and SLA instants (the tenant's timezone applies to inboxes without one).
        PERFORM etl.apply_business_hours(p_run_id, NULL);
        PERFORM etl.refresh_daily_stats(NULL);
    ELSIF cardinality(v_days) > 0 THEN
        PERFORM etl.refresh_daily_stats(v_days);
    END IF;

    SELECT max(si.updated_at) INTO v_max FROM etl.stage_ids si WHERE si.run_id = p_run_id;

    UPDATE etl.runs r
    SET status = 'succeeded', finished_at = clock_timestamp(), deleted = v_del
    WHERE r.tenant_id = t AND r.id = p_run_id;

    INSERT INTO etl.watermarks AS wm (tenant_id, source_updated_at, last_success_at, last_run_id, updated_at, timezone, rules_version, reread_all)
    VALUES (t, v_max, clock_timestamp(), p_run_id, clock_timestamp(), tz, s.rules_version, false)
    ON CONFLICT (tenant_id) DO UPDATE SET
        source_updated_at = greatest(wm.source_updated_at, EXCLUDED.source_updated_at),
        last_success_at = EXCLUDED.last_success_at, last_run_id = EXCLUDED.last_run_id,
        updated_at = EXCLUDED.updated_at, timezone = EXCLUDED.timezone, rules_version = EXCLUDED.rules_version,
        reread_all = false;

    -- Staging never outlives the transaction that filled it.
    DELETE FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id;
    DELETE FROM etl.stage_days sd WHERE sd.run_id = p_run_id;
    DELETE FROM etl.stage_ids si WHERE si.run_id = p_run_id;
END
$$;
COMMENT ON FUNCTION etl.merge_run(bigint) IS
    'Applies a staged run of the current tenant in the caller''s transaction: upsert conversations and transcripts, funnel, deletions, daily rollups of affected days, run counts (on etl.runs) and watermark.';


---- create above / drop below ----

CREATE OR REPLACE FUNCTION etl.merge_chunk(p_run_id bigint, p_chunk integer)
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    SET work_mem = '64MB'
    AS $$
DECLARE
    t          bigint := app.current_tenant_id();
    s          app.tenant_settings;
    tz         text;
    has_regex  boolean;
    v_existing integer[];
    v_days     date[];
    v_extract  integer;
    v_ins      integer;
    v_upd      integer;
    v_msgs     integer;
    v_n        integer;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.merge_chunk: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.merge_chunk: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT count(*)::integer INTO v_extract FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk;
    IF v_extract = 0 THEN
        RETURN;
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    -- Contact texts are only gathered when a rule has a regular expression.
    has_regex := s.lead_regex IS NOT NULL OR s.visit_regex IS NOT NULL OR s.converted_regex IS NOT NULL;

    -- Extracted conversations already stored: only these are compared and can lose messages;
    -- every other extracted conversation (all of them on a first load) is a plain INSERT.
    -- One primary-key probe per staged row, whatever the statistics say: during a first load the
    -- tenant's rows are all new, its statistics say it has none, and a join planned from that side
    -- rescans the chunk for every row already inserted (minutes per chunk on a large tenant).
    v_existing := etl.stored_conversations(t, ARRAY(
        SELECT sc.conversation_id FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk));

    -- Days that lose rows: current days of stored conversations about to change.
    IF cardinality(v_existing) > 0 THEN
        SELECT array_agg(DISTINCT c.created_day) INTO v_days
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_existing));
    END IF;

    v_ins := 0;
    v_upd := 0;
    v_msgs := 0;
    BEGIN
        -- One statement, so the staged rows and their derived columns (days and hours in the
        -- tenant's timezone, DESIGN §5 flags, funnel stage) are computed once: stored conversations
        -- are rewritten only when something differs; new ones (all of a first load) are plain INSERTs.
        -- The transcript and search words arrive grouped per conversation (internal/etl), in the
        -- conversation's staging row: staging is never analysed, and a grouped join of staged
        -- messages planned from its estimates re-aggregated the whole chunk for every conversation.
        WITH x AS (
            SELECT sc.*,
                   (sc.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN etl.funnel_stage(s, sc.labels, analytics.contact_texts(sc.message_senders, sc.message_contents), sc.contact_messages)
                        ELSE etl.funnel_stage_labels(s, sc.labels, sc.contact_messages) END AS stage,
                   array_to_tsvector(sc.search_words) AS search
            FROM etl.stage_conversations sc
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk
        ), src AS (
            SELECT t AS tenant_id, x.conversation_id, x.account_id, x.inbox_id, x.display_id, x.channel_type,
                   x.status, x.priority, x.contact_id, x.contact_name, x.contact_phone, x.assignee_id, x.team_id,
                   x.labels, x.created_at, x.updated_at AS source_updated_at, x.last_activity_at,
                   x.local_created::date AS created_day,
                   extract(hour FROM x.local_created)::smallint AS created_hour,
                   extract(dow FROM x.local_created)::smallint AS created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at,
                   extract(epoch FROM x.first_reply_at - x.first_contact_at)::double precision AS first_reply_seconds,
                   x.first_human_reply_at,
                   extract(epoch FROM x.first_human_reply_at - x.first_contact_at)::double precision AS first_human_reply_seconds,
                   x.last_message_at,
                   x.contact_messages > 0 AND x.first_reply_at IS NULL AS unanswered,
                   x.status = 1 AS resolved,
                   x.handoff,
                   x.status = 1 AND x.bot_messages > 0 AND x.human_messages = 0 AS bot_resolved,
                   CASE WHEN x.status = 1 THEN greatest(0, extract(epoch FROM coalesce(x.resolved_event_at, x.last_activity_at) - x.created_at))::double precision END AS resolution_seconds,
                   x.csat_rating, x.csat_at,
                   x.stage >= 1 AS is_lead, x.stage >= 2 AS is_visit, x.stage >= 3 AS is_converted,
                   now() AS loaded_at, x.search
            FROM x
        ), up AS (
            UPDATE analytics.conversations c SET
                account_id = x.account_id, inbox_id = x.inbox_id, display_id = x.display_id,
                channel_type = x.channel_type, status = x.status, priority = x.priority,
                contact_id = x.contact_id, contact_name = x.contact_name,
                contact_phone = x.contact_phone, assignee_id = x.assignee_id,
                team_id = x.team_id, labels = x.labels, created_at = x.created_at,
                source_updated_at = x.source_updated_at, last_activity_at = x.last_activity_at,
                created_day = x.created_day, created_hour = x.created_hour,
                created_dow = x.created_dow, contact_messages = x.contact_messages,
                bot_messages = x.bot_messages, human_messages = x.human_messages,
                private_notes = x.private_notes, first_contact_at = x.first_contact_at,
                first_reply_at = x.first_reply_at, first_reply_seconds = x.first_reply_seconds,
                first_human_reply_at = x.first_human_reply_at,
                first_human_reply_seconds = x.first_human_reply_seconds,
                last_message_at = x.last_message_at, unanswered = x.unanswered,
                resolved = x.resolved, handoff = x.handoff, bot_resolved = x.bot_resolved,
                resolution_seconds = x.resolution_seconds, csat_rating = x.csat_rating,
                csat_at = x.csat_at, is_lead = x.is_lead, is_visit = x.is_visit,
                is_converted = x.is_converted, loaded_at = x.loaded_at, search = x.search
            FROM src x
            -- = ANY (v_existing): the rows to compare are known; a first load compares none, and
            -- the planner cannot drive the join from this tenant's mis-estimated fresh rows.
            -- cardinality first: a constant condition, so a first load skips the join entirely.
            WHERE cardinality(v_existing) > 0
              AND c.tenant_id = t AND c.conversation_id = ANY (v_existing) AND c.conversation_id = x.conversation_id
              AND (c.account_id, c.inbox_id, c.display_id, c.channel_type, c.status, c.priority, c.contact_id,
                   c.contact_name, c.contact_phone, c.assignee_id, c.team_id, c.labels, c.created_at,
                   c.source_updated_at, c.last_activity_at, c.created_day, c.created_hour, c.created_dow,
                   c.contact_messages, c.bot_messages, c.human_messages, c.private_notes, c.first_contact_at,
                   c.first_reply_at, c.first_reply_seconds, c.first_human_reply_at, c.first_human_reply_seconds,
                   c.last_message_at, c.unanswered, c.resolved, c.handoff, c.bot_resolved, c.resolution_seconds,
                   c.csat_rating, c.csat_at, c.is_lead, c.is_visit, c.is_converted, c.search)
              IS DISTINCT FROM
                  (x.account_id, x.inbox_id, x.display_id, x.channel_type, x.status, x.priority, x.contact_id,
                   x.contact_name, x.contact_phone, x.assignee_id, x.team_id, x.labels, x.created_at,
                   x.source_updated_at, x.last_activity_at, x.created_day, x.created_hour, x.created_dow,
                   x.contact_messages, x.bot_messages, x.human_messages, x.private_notes, x.first_contact_at,
                   x.first_reply_at, x.first_reply_seconds, x.first_human_reply_at, x.first_human_reply_seconds,
                   x.last_message_at, x.unanswered, x.resolved, x.handoff, x.bot_resolved, x.resolution_seconds,
                   x.csat_rating, x.csat_at, x.is_lead, x.is_visit, x.is_converted, x.search)
            RETURNING c.created_day
        ), ins AS (
            INSERT INTO analytics.conversations (
                tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type, status, priority,
                contact_id, contact_name, contact_phone, assignee_id, team_id, labels, created_at,
                source_updated_at, last_activity_at, created_day, created_hour, created_dow,
                contact_messages, bot_messages, human_messages, private_notes, first_contact_at,
                first_reply_at, first_reply_seconds, first_human_reply_at, first_human_reply_seconds,
                last_message_at, unanswered, resolved, handoff, bot_resolved, resolution_seconds,
                csat_rating, csat_at, is_lead, is_visit, is_converted, loaded_at, search)
            SELECT x.*
            FROM src x
            WHERE NOT EXISTS (SELECT FROM unnest(v_existing) e WHERE e = x.conversation_id)
            RETURNING created_day
        )
        SELECT (SELECT count(*)::integer FROM ins), (SELECT count(*)::integer FROM up),
               ARRAY(SELECT created_day FROM ins UNION SELECT created_day FROM up) || v_days
        INTO v_ins, v_upd, v_days;

        -- Transcripts of new conversations: plain INSERT, one row each.
        WITH ins AS (
            INSERT INTO analytics.transcripts (tenant_id, conversation_id, message_ids, message_created_at,
                                               message_senders, message_types, message_contents, message_deleted)
            SELECT t, sc.conversation_id, sc.message_ids, sc.message_created_at, sc.message_senders,
                   sc.message_types, sc.message_contents, sc.message_deleted
            FROM etl.stage_conversations sc
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk
              AND NOT EXISTS (SELECT FROM unnest(v_existing) e WHERE e = sc.conversation_id)
            RETURNING cardinality(message_ids) AS n
        )
        SELECT coalesce(sum(ins.n), 0)::integer INTO v_msgs FROM ins;

        IF cardinality(v_existing) > 0 THEN
            -- Transcripts of stored conversations: the run counts the staged messages the stored
            -- transcript lacks or holds otherwise (new, edited, deleted in Chatwoot), then the
            -- row is rewritten only if it differs.
            SELECT count(*)::integer INTO v_n
            FROM (SELECT sc.conversation_id, m.*
                  FROM etl.stage_conversations sc,
                       unnest(sc.message_ids, sc.message_created_at, sc.message_senders, sc.message_types,
                              sc.message_contents, sc.message_deleted) AS m(id, created_at, sender, message_type, content, deleted)
                  WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk AND sc.conversation_id = ANY (v_existing)
                  EXCEPT ALL
                  SELECT tr.conversation_id, m.*
                  FROM analytics.transcripts tr,
                       unnest(tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types,
                              tr.message_contents, tr.message_deleted) AS m(id, created_at, sender, message_type, content, deleted)
                  WHERE tr.tenant_id = t AND tr.conversation_id = ANY (v_existing)) changed;
            v_msgs := v_msgs + v_n;

            INSERT INTO analytics.transcripts AS tr (tenant_id, conversation_id, message_ids, message_created_at,
                                                     message_senders, message_types, message_contents, message_deleted)
            SELECT t, sc.conversation_id, sc.message_ids, sc.message_created_at, sc.message_senders,
                   sc.message_types, sc.message_contents, sc.message_deleted
            FROM etl.stage_conversations sc
            WHERE sc.run_id = p_run_id AND sc.chunk = p_chunk AND sc.conversation_id = ANY (v_existing)
            ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET
                message_ids = EXCLUDED.message_ids, message_created_at = EXCLUDED.message_created_at,
                message_senders = EXCLUDED.message_senders, message_types = EXCLUDED.message_types,
                message_contents = EXCLUDED.message_contents, message_deleted = EXCLUDED.message_deleted
            WHERE (tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types,
                   tr.message_contents, tr.message_deleted)
                  IS DISTINCT FROM (EXCLUDED.message_ids, EXCLUDED.message_created_at, EXCLUDED.message_senders,
                                    EXCLUDED.message_types, EXCLUDED.message_contents, EXCLUDED.message_deleted);
        END IF;
    END;

    INSERT INTO etl.stage_days (run_id, day)
    SELECT DISTINCT p_run_id, d FROM unnest(v_days) d WHERE d IS NOT NULL;

    UPDATE etl.runs r
    SET extracted = r.extracted + v_extract, inserted = r.inserted + v_ins, updated = r.updated + v_upd,
        messages = r.messages + v_msgs
    WHERE r.tenant_id = t AND r.id = p_run_id;
END
$$;
COMMENT ON FUNCTION etl.merge_chunk(bigint, integer) IS
    'Merges one staged chunk of a running run of the current tenant (conversations, one transcript row each, counts on etl.runs, affected days in etl.stage_days); etl.merge_run completes the run.';

CREATE OR REPLACE FUNCTION etl.merge_run(p_run_id bigint)
    RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    SET jit = off
    SET work_mem = '64MB'
    AS $$
DECLARE
    t          bigint := app.current_tenant_id();
    s          app.tenant_settings;
    tz         text;
    w          etl.watermarks;
    rebuild    boolean;
    has_regex  boolean;
    v_gone     integer[];
    v_days     date[];
    v_del      integer;
    v_max      timestamptz;
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'etl.merge_run: no tenant in context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'etl.merge_run: run % is not a running run of tenant %', p_run_id, t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO STRICT s FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    SELECT tn.timezone INTO STRICT tz FROM app.tenants tn WHERE tn.id = t;
    SELECT * INTO w FROM etl.watermarks wm WHERE wm.tenant_id = t;
    -- Rebuild history when the timezone or the rules differ from what the stored rows used
    -- (no watermark yet but rows present that this run did not write: unknown, so rebuild too;
    -- rows this run wrote carry loaded_at = now(), the transaction's start).
    IF w.tenant_id IS NULL THEN
        rebuild := EXISTS (SELECT FROM analytics.conversations c WHERE c.tenant_id = t AND c.loaded_at <> now());
    ELSE
        rebuild := w.timezone IS DISTINCT FROM tz OR w.rules_version IS DISTINCT FROM s.rules_version;
    END IF;
    -- Contact texts are only gathered when a rule has a regular expression.
    has_regex := s.lead_regex IS NOT NULL OR s.visit_regex IS NOT NULL OR s.converted_regex IS NOT NULL;

    -- Stored conversations gone from the source (deleted, or their inbox no longer the tenant's).
    -- EXCEPT hashes both sides: staging is never analysed (the loader does not own it), so a
    -- correlated NOT EXISTS can be planned as a nested loop over mis-estimated rows and take
    -- minutes on a large tenant.
    v_gone := ARRAY(
        SELECT c.conversation_id FROM analytics.conversations c WHERE c.tenant_id = t
        EXCEPT
        SELECT si.conversation_id FROM etl.stage_ids si WHERE si.run_id = p_run_id);

    -- Days that lose rows: current days of conversations about to disappear.
    INSERT INTO etl.stage_days (run_id, day)
    SELECT DISTINCT p_run_id, c.created_day
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_gone));

    -- Reconcile deletions and inbox remapping: gone from the tenant's inboxes means gone here,
    -- with its transcript (no foreign key cascades it: see analytics.transcripts).
    v_del := cardinality(v_gone);
    IF v_del > 0 THEN
        DELETE FROM analytics.transcripts tr
        WHERE tr.tenant_id = t AND tr.conversation_id IN (SELECT unnest(v_gone));
        DELETE FROM analytics.conversations c
        WHERE c.tenant_id = t AND c.conversation_id IN (SELECT unnest(v_gone));
    END IF;

    v_days := ARRAY(SELECT DISTINCT sd.day FROM etl.stage_days sd WHERE sd.run_id = p_run_id);

    IF rebuild THEN
        -- Timezone or funnel rules changed: recompute from stored data, no source read.
        WITH cur AS (
            SELECT c.conversation_id,
                   (c.created_at AT TIME ZONE tz) AS local_created,
                   CASE WHEN has_regex THEN
                       etl.funnel_stage(s, c.labels,
                           coalesce((SELECT analytics.contact_texts(tr.message_senders, tr.message_contents)
                                     FROM analytics.transcripts tr
                                     WHERE tr.tenant_id = t AND tr.conversation_id = c.conversation_id), '{}'),
                           c.contact_messages)
                   ELSE etl.funnel_stage_labels(s, c.labels, c.contact_messages) END AS stage
            FROM analytics.conversations c
            WHERE c.tenant_id = t
        )
        UPDATE analytics.conversations c
        SET created_day = cur.local_created::date,
            created_hour = extract(hour FROM cur.local_created)::smallint,
            created_dow = extract(dow FROM cur.local_created)::smallint,
            is_lead = cur.stage >= 1, is_visit = cur.stage >= 2, is_converted = cur.stage >= 3
        FROM cur
        WHERE c.tenant_id = t AND c.conversation_id = cur.conversation_id
          AND (c.created_day, c.created_hour, c.created_dow, c.is_lead, c.is_visit, c.is_converted)
              IS DISTINCT FROM (cur.local_created::date, extract(hour FROM cur.local_created)::smallint,
                                extract(dow FROM cur.local_created)::smallint,
                                cur.stage >= 1, cur.stage >= 2, cur.stage >= 3);
        PERFORM etl.refresh_daily_stats(NULL);
    ELSIF cardinality(v_days) > 0 THEN
        PERFORM etl.refresh_daily_stats(v_days);
    END IF;

    SELECT max(si.updated_at) INTO v_max FROM etl.stage_ids si WHERE si.run_id = p_run_id;

    UPDATE etl.runs r
    SET status = 'succeeded', finished_at = clock_timestamp(), deleted = v_del
    WHERE r.tenant_id = t AND r.id = p_run_id;

    INSERT INTO etl.watermarks AS wm (tenant_id, source_updated_at, last_success_at, last_run_id, updated_at, timezone, rules_version)
    VALUES (t, v_max, clock_timestamp(), p_run_id, clock_timestamp(), tz, s.rules_version)
    ON CONFLICT (tenant_id) DO UPDATE SET
        source_updated_at = greatest(wm.source_updated_at, EXCLUDED.source_updated_at),
        last_success_at = EXCLUDED.last_success_at, last_run_id = EXCLUDED.last_run_id,
        updated_at = EXCLUDED.updated_at, timezone = EXCLUDED.timezone, rules_version = EXCLUDED.rules_version;

    -- Staging never outlives the transaction that filled it.
    DELETE FROM etl.stage_conversations sc WHERE sc.run_id = p_run_id;
    DELETE FROM etl.stage_days sd WHERE sd.run_id = p_run_id;
    DELETE FROM etl.stage_ids si WHERE si.run_id = p_run_id;
END
$$;
COMMENT ON FUNCTION etl.merge_run(bigint) IS
    'Applies a staged run of the current tenant in the caller''s transaction: upsert conversations and transcripts, funnel, deletions, daily rollups of affected days, run counts (on etl.runs) and watermark.';

DROP FUNCTION etl.sync_inboxes(bigint, integer[], text[], text[], boolean[], text[], integer[], integer[], boolean[], boolean[], integer[], integer[], integer[], integer[]);
DROP FUNCTION etl.apply_business_hours(bigint, integer[]);
ALTER TABLE etl.watermarks DROP COLUMN reread_all;
ALTER TABLE etl.stage_conversations
    DROP COLUMN handoff_requested_at, DROP COLUMN last_contact_at, DROP COLUMN last_human_at,
    DROP COLUMN waiting_contact_at, DROP COLUMN human_wait_from, DROP COLUMN human_wait_reply_at;
DROP INDEX analytics.conversations_wait_unanswered_idx;
DROP INDEX analytics.conversations_waiting_idx;
ALTER TABLE analytics.conversations DROP CONSTRAINT conversations_business_seconds_check;
ALTER TABLE analytics.conversations
    DROP COLUMN handoff_requested_at, DROP COLUMN last_contact_at, DROP COLUMN last_human_at,
    DROP COLUMN resolved_at, DROP COLUMN first_reply_business_seconds,
    DROP COLUMN first_human_reply_business_seconds, DROP COLUMN resolution_business_seconds,
    DROP COLUMN human_wait_from, DROP COLUMN human_wait_reply_at, DROP COLUMN human_wait_seconds,
    DROP COLUMN human_wait_business_seconds, DROP COLUMN human_wait_due_at, DROP COLUMN waiting_since,
    DROP COLUMN waiting_due_at, DROP COLUMN window_closes_at;
DROP TABLE analytics.inboxes;
DROP FUNCTION analytics.window_closes_at(text, timestamptz);
DROP FUNCTION analytics.waiting_since(smallint, timestamptz, timestamptz, timestamptz, timestamptz);
DROP FUNCTION analytics.is_open_at(timestamptz, text, integer[]);
DROP FUNCTION analytics.business_add(timestamptz, double precision, text, integer[]);
DROP FUNCTION analytics.business_seconds_at(timestamptz, timestamptz, bigint, bigint, text, integer[]);
DROP FUNCTION analytics.business_seconds(timestamptz, timestamptz, text, integer[]);
DROP FUNCTION analytics.business_seconds_by_day(timestamptz, timestamptz, text, integer[]);
DROP FUNCTION analytics.open_us(bigint, integer[]);
DROP FUNCTION analytics.wall_us(timestamptz, text);
DROP FUNCTION analytics.week_hours(integer[], boolean[], boolean[], integer[], integer[], integer[], integer[]);
CREATE OR REPLACE FUNCTION etl.funnel_stage(s app.tenant_settings, labels text[], contact_texts text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT greatest(etl.funnel_stage_labels(s, labels, contact_messages), CASE
        WHEN s.converted_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.converted_regex)
            THEN 3
        WHEN s.visit_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.visit_regex)
            THEN 2
        WHEN s.lead_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.lead_regex)
            THEN 1
        ELSE 0
    END)::smallint
$$;
CREATE OR REPLACE FUNCTION etl.funnel_stage_labels(s app.tenant_settings, labels text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN labels && s.converted_labels THEN 3
        WHEN labels && s.visit_labels THEN 2
        WHEN (s.lead_any_message AND contact_messages > 0) OR labels && s.lead_labels THEN 1
        ELSE 0
    END::smallint
$$;
CREATE OR REPLACE FUNCTION app.tenant_settings_bump_rules() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF (NEW.lead_labels, NEW.lead_regex, NEW.lead_any_message, NEW.visit_labels, NEW.visit_regex,
        NEW.converted_labels, NEW.converted_regex)
       IS DISTINCT FROM
       (OLD.lead_labels, OLD.lead_regex, OLD.lead_any_message, OLD.visit_labels, OLD.visit_regex,
        OLD.converted_labels, OLD.converted_regex)
       AND NEW.rules_version = OLD.rules_version THEN
        NEW.rules_version := OLD.rules_version + 1;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.tenant_settings_bump_rules() IS 'BEFORE UPDATE on tenant_settings: a changed funnel rule bumps rules_version.';
ALTER TABLE app.tenant_settings DROP COLUMN lead_exclusion_labels, DROP COLUMN sla_seconds;
