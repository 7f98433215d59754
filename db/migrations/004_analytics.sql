-- Per-tenant analytics, one row per Chatwoot conversation plus its public transcript.
-- Metric definitions: DESIGN.md §5. Written only by the ETL (geniai_etl, under the context of the
-- tenant it loads); read by tenant roles under RLS and by staff.

CREATE TABLE analytics.conversations (
    tenant_id                 bigint           NOT NULL,
    conversation_id           integer          NOT NULL,
    account_id                integer          NOT NULL,
    inbox_id                  integer          NOT NULL,
    display_id                integer          NOT NULL,
    channel_type              text             NOT NULL DEFAULT '',
    status                    smallint         NOT NULL CHECK (status BETWEEN 0 AND 3),
    priority                  smallint         CHECK (priority BETWEEN 0 AND 3),
    contact_id                bigint,
    contact_name              text             NOT NULL DEFAULT '',
    contact_phone             text             NOT NULL DEFAULT '',
    assignee_id               integer,
    team_id                   bigint,
    labels                    text[]           NOT NULL DEFAULT '{}',
    created_at                timestamptz      NOT NULL,
    source_updated_at         timestamptz      NOT NULL,
    last_activity_at          timestamptz      NOT NULL,
    created_day               date             NOT NULL,
    created_hour              smallint         NOT NULL CHECK (created_hour BETWEEN 0 AND 23),
    created_dow               smallint         NOT NULL CHECK (created_dow BETWEEN 0 AND 6),
    contact_messages          integer          NOT NULL DEFAULT 0 CHECK (contact_messages >= 0),
    bot_messages              integer          NOT NULL DEFAULT 0 CHECK (bot_messages >= 0),
    human_messages            integer          NOT NULL DEFAULT 0 CHECK (human_messages >= 0),
    private_notes             integer          NOT NULL DEFAULT 0 CHECK (private_notes >= 0),
    first_contact_at          timestamptz,
    first_reply_at            timestamptz,
    first_reply_seconds       double precision CHECK (first_reply_seconds > 0),
    first_human_reply_at      timestamptz,
    first_human_reply_seconds double precision CHECK (first_human_reply_seconds > 0),
    last_message_at           timestamptz,
    unanswered                boolean          NOT NULL DEFAULT false,
    resolved                  boolean          NOT NULL DEFAULT false,
    handoff                   boolean          NOT NULL DEFAULT false,
    bot_resolved              boolean          NOT NULL DEFAULT false,
    resolution_seconds        double precision CHECK (resolution_seconds >= 0),
    csat_rating               smallint         CHECK (csat_rating BETWEEN 1 AND 5),
    csat_at                   timestamptz,
    is_lead                   boolean          NOT NULL DEFAULT false,
    is_visit                  boolean          NOT NULL DEFAULT false,
    is_converted              boolean          NOT NULL DEFAULT false,
    loaded_at                 timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, conversation_id),
    CHECK (NOT is_visit OR is_lead),
    CHECK (NOT is_converted OR is_visit),
    CHECK (resolved OR resolution_seconds IS NULL)
);
COMMENT ON TABLE analytics.conversations IS 'One row per Chatwoot conversation of a tenant''s inboxes, with its metrics (DESIGN §5).';
COMMENT ON COLUMN analytics.conversations.conversation_id IS 'Chatwoot conversations.id.';
COMMENT ON COLUMN analytics.conversations.display_id IS 'Chatwoot display number (#123 in its UI), unique per account.';
COMMENT ON COLUMN analytics.conversations.status IS 'Chatwoot status: 0 open, 1 resolved, 2 pending, 3 snoozed.';
COMMENT ON COLUMN analytics.conversations.priority IS 'Chatwoot priority: 0 low, 1 medium, 2 high, 3 urgent; NULL none.';
COMMENT ON COLUMN analytics.conversations.labels IS 'Labels from Chatwoot taggings (the truth; cached_label_list may be NULL).';
COMMENT ON COLUMN analytics.conversations.source_updated_at IS 'Chatwoot conversations.updated_at; the ETL watermark follows it.';
COMMENT ON COLUMN analytics.conversations.created_day IS 'Day of created_at in the tenant''s timezone; a conversation belongs to the day it was created.';
COMMENT ON COLUMN analytics.conversations.created_hour IS 'Hour (0-23) of created_at in the tenant''s timezone.';
COMMENT ON COLUMN analytics.conversations.created_dow IS 'Weekday of created_at in the tenant''s timezone, 0 = Sunday.';
COMMENT ON COLUMN analytics.conversations.contact_messages IS 'Incoming (type 0) public messages.';
COMMENT ON COLUMN analytics.conversations.bot_messages IS 'Outgoing public messages sent by AgentBot or Captain::Assistant.';
COMMENT ON COLUMN analytics.conversations.human_messages IS 'Outgoing public messages sent by a User (agent).';
COMMENT ON COLUMN analytics.conversations.private_notes IS 'Private notes (counted only; their text is never loaded).';
COMMENT ON COLUMN analytics.conversations.first_reply_seconds IS 'First bot-or-human message strictly after the first contact message, minus that message; fractional seconds kept.';
COMMENT ON COLUMN analytics.conversations.first_human_reply_seconds IS 'First human message strictly after the first contact message, minus that message.';
COMMENT ON COLUMN analytics.conversations.unanswered IS 'Has a contact message and no bot or human message after the first one.';
COMMENT ON COLUMN analytics.conversations.resolved IS 'Current status is resolved (1); a reopened conversation is not.';
COMMENT ON COLUMN analytics.conversations.handoff IS 'Has a bot message and a later human message.';
COMMENT ON COLUMN analytics.conversations.bot_resolved IS 'Resolved, with at least one bot message and no human message.';
COMMENT ON COLUMN analytics.conversations.resolution_seconds IS 'Resolved only: latest conversation_resolved event_end_time, else last_activity_at, minus created_at.';
COMMENT ON COLUMN analytics.conversations.csat_rating IS 'Latest CSAT rating (1-5), by created_at then id.';
COMMENT ON COLUMN analytics.conversations.is_lead IS 'Funnel stage reached, cumulative: converted implies visit implies lead.';
CREATE INDEX conversations_tenant_day_idx ON analytics.conversations (tenant_id, created_day, inbox_id);
CREATE INDEX conversations_tenant_updated_idx ON analytics.conversations (tenant_id, source_updated_at);

CREATE TABLE analytics.messages (
    tenant_id       bigint      NOT NULL,
    conversation_id integer     NOT NULL,
    message_id      integer     NOT NULL,
    created_at      timestamptz NOT NULL,
    sender          text        NOT NULL CHECK (sender IN ('contact', 'bot', 'human', 'system')),
    message_type    smallint    NOT NULL CHECK (message_type BETWEEN 0 AND 3),
    content         text        NOT NULL DEFAULT '',
    deleted         boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, conversation_id, message_id),
    FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES analytics.conversations (tenant_id, conversation_id) ON DELETE CASCADE
);
COMMENT ON TABLE analytics.messages IS 'Public transcript of each conversation (private notes are never loaded).';
COMMENT ON COLUMN analytics.messages.sender IS 'contact (incoming), bot (AgentBot, Captain::Assistant), human (User), system (activity, template, other senders).';
COMMENT ON COLUMN analytics.messages.message_type IS 'Chatwoot message_type: 0 incoming, 1 outgoing, 2 activity, 3 template.';
COMMENT ON COLUMN analytics.messages.deleted IS 'Deleted in Chatwoot (content_attributes.deleted); still counts in metrics, shown as deleted.';

ALTER TABLE analytics.conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.conversations FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.messages FORCE ROW LEVEL SECURITY;

CREATE POLICY conversations_tenant_read ON analytics.conversations FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY conversations_staff_read ON analytics.conversations FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY conversations_etl_all ON analytics.conversations FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));

CREATE POLICY messages_tenant_read ON analytics.messages FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY messages_staff_read ON analytics.messages FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY messages_etl_all ON analytics.messages FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));

GRANT SELECT ON analytics.conversations, analytics.messages TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT, DELETE ON analytics.conversations, analytics.messages TO geniai_etl;
-- Every column but the key is updatable by the loader; tenant_id never is.
GRANT UPDATE (account_id, inbox_id, display_id, channel_type, status, priority, contact_id,
              contact_name, contact_phone, assignee_id, team_id, labels, created_at,
              source_updated_at, last_activity_at, created_day, created_hour, created_dow,
              contact_messages, bot_messages, human_messages, private_notes, first_contact_at,
              first_reply_at, first_reply_seconds, first_human_reply_at, first_human_reply_seconds,
              last_message_at, unanswered, resolved, handoff, bot_resolved, resolution_seconds,
              csat_rating, csat_at, is_lead, is_visit, is_converted, loaded_at)
    ON analytics.conversations TO geniai_etl;
GRANT UPDATE (created_at, sender, message_type, content, deleted) ON analytics.messages TO geniai_etl;

---- create above / drop below ----

DROP TABLE analytics.messages;
DROP TABLE analytics.conversations;
