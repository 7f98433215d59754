-- Chatwoot 4.9 source schema: the subset of tables and columns the GeniAI ETL reads
-- (docs/chatwoot.md), with Chatwoot's own names, types, defaults, NOT NULLs and
-- indexes, so the ETL runs unchanged against a real Chatwoot database.
--
-- Conventions copied from Chatwoot's db/schema.rb:
--   * every timestamp is "timestamp without time zone" and holds UTC;
--   * Rails "id: :serial" tables have integer ids, the others bigint (bigserial);
--   * messages.content_attributes is json (not jsonb);
--   * there are no foreign keys (Chatwoot relies on Rails associations);
--   * messages has no index on updated_at.
-- Columns the ETL never reads are kept only where they make the demo realistic
-- (credentials in users, provider_config in channel_whatsapp: the ETL must never read them).
-- Chatwoot's trigram (pg_trgm) indexes are left out so no extension is required.
--
-- Applied once to an empty database by chatwoot.CreateSchema (or, split at the index
-- marker below, by chatwoot.CreateDemo); sqlc also reads this file as the catalogue for
-- queries/chatwoot/.

CREATE TABLE accounts (
    id serial PRIMARY KEY,
    name character varying NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    locale integer DEFAULT 0,
    domain character varying(100),
    support_email character varying(100),
    feature_flags bigint DEFAULT 0 NOT NULL,
    auto_resolve_duration integer,
    limits jsonb DEFAULT '{}'::jsonb,
    custom_attributes jsonb DEFAULT '{}'::jsonb,
    status integer DEFAULT 0
);

CREATE TABLE inboxes (
    id serial PRIMARY KEY,
    channel_id integer NOT NULL,
    account_id integer NOT NULL,
    name character varying NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    channel_type character varying,
    enable_auto_assignment boolean DEFAULT true,
    greeting_enabled boolean DEFAULT false,
    greeting_message character varying,
    email_address character varying,
    working_hours_enabled boolean DEFAULT false,
    out_of_office_message character varying,
    timezone character varying DEFAULT 'UTC'::character varying,
    enable_email_collect boolean DEFAULT true,
    csat_survey_enabled boolean DEFAULT false,
    allow_messages_after_resolved boolean DEFAULT true,
    auto_assignment_config jsonb DEFAULT '{}'::jsonb,
    lock_to_single_conversation boolean DEFAULT false NOT NULL,
    portal_id bigint,
    sender_name_type integer DEFAULT 0 NOT NULL,
    business_name character varying
);

CREATE TABLE channel_whatsapp (
    id bigserial PRIMARY KEY,
    account_id integer NOT NULL,
    phone_number character varying NOT NULL,
    provider character varying DEFAULT 'default'::character varying,
    provider_config jsonb DEFAULT '{}'::jsonb,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    message_templates jsonb DEFAULT '{}'::jsonb,
    message_templates_last_updated timestamp without time zone
);

CREATE TABLE conversations (
    id serial PRIMARY KEY,
    account_id integer NOT NULL,
    inbox_id integer NOT NULL,
    status integer DEFAULT 0 NOT NULL,
    assignee_id integer,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    contact_id bigint,
    display_id integer NOT NULL,
    contact_last_seen_at timestamp without time zone,
    agent_last_seen_at timestamp without time zone,
    additional_attributes jsonb DEFAULT '{}'::jsonb,
    contact_inbox_id bigint,
    uuid uuid DEFAULT gen_random_uuid() NOT NULL,
    identifier character varying,
    last_activity_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    team_id bigint,
    campaign_id bigint,
    snoozed_until timestamp without time zone,
    custom_attributes jsonb DEFAULT '{}'::jsonb,
    assignee_last_seen_at timestamp without time zone,
    first_reply_created_at timestamp without time zone,
    priority integer,
    sla_policy_id bigint,
    waiting_since timestamp without time zone,
    cached_label_list text,
    assignee_agent_bot_id bigint
);

CREATE TABLE messages (
    id serial PRIMARY KEY,
    content text,
    account_id integer NOT NULL,
    inbox_id integer NOT NULL,
    conversation_id integer NOT NULL,
    message_type integer NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    private boolean DEFAULT false NOT NULL,
    status integer DEFAULT 0,
    source_id text,
    content_type integer DEFAULT 0 NOT NULL,
    content_attributes json DEFAULT '{}'::json,
    sender_type character varying,
    sender_id bigint,
    external_source_ids jsonb DEFAULT '{}'::jsonb,
    additional_attributes jsonb DEFAULT '{}'::jsonb,
    processed_message_content text,
    sentiment jsonb DEFAULT '{}'::jsonb
);

CREATE TABLE contacts (
    id serial PRIMARY KEY,
    name character varying DEFAULT ''::character varying,
    email character varying,
    phone_number character varying,
    account_id integer NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    additional_attributes jsonb DEFAULT '{}'::jsonb,
    identifier character varying,
    custom_attributes jsonb DEFAULT '{}'::jsonb,
    last_activity_at timestamp without time zone,
    contact_type integer DEFAULT 0,
    middle_name character varying DEFAULT ''::character varying,
    last_name character varying DEFAULT ''::character varying,
    location character varying DEFAULT ''::character varying,
    country_code character varying DEFAULT ''::character varying,
    blocked boolean DEFAULT false NOT NULL,
    company_id bigint
);

CREATE TABLE users (
    id serial PRIMARY KEY,
    provider character varying DEFAULT 'email'::character varying NOT NULL,
    uid character varying DEFAULT ''::character varying NOT NULL,
    encrypted_password character varying DEFAULT ''::character varying NOT NULL,
    reset_password_token character varying,
    reset_password_sent_at timestamp without time zone,
    remember_created_at timestamp without time zone,
    sign_in_count integer DEFAULT 0 NOT NULL,
    current_sign_in_at timestamp without time zone,
    last_sign_in_at timestamp without time zone,
    confirmed_at timestamp without time zone,
    name character varying NOT NULL,
    display_name character varying,
    email character varying,
    tokens json,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    pubsub_token character varying,
    availability integer DEFAULT 0,
    ui_settings jsonb DEFAULT '{}'::jsonb,
    custom_attributes jsonb DEFAULT '{}'::jsonb,
    type character varying,
    message_signature text,
    otp_secret character varying,
    consumed_timestep integer,
    otp_required_for_login boolean DEFAULT false,
    otp_backup_codes text
);

CREATE TABLE account_users (
    id bigserial PRIMARY KEY,
    account_id bigint,
    user_id bigint,
    role integer DEFAULT 0,
    inviter_id bigint,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    active_at timestamp without time zone,
    availability integer DEFAULT 0 NOT NULL,
    auto_offline boolean DEFAULT true NOT NULL,
    custom_role_id bigint,
    agent_capacity_policy_id bigint
);

CREATE TABLE teams (
    id bigserial PRIMARY KEY,
    name character varying NOT NULL,
    description text,
    allow_auto_assign boolean DEFAULT true,
    account_id bigint NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

-- acts-as-taggable-on: tags are global (no account_id); taggings link a tag to any
-- model (taggable_type 'Conversation' or 'Contact') in a context ('labels').
CREATE TABLE tags (
    id serial PRIMARY KEY,
    name character varying,
    taggings_count integer DEFAULT 0
);

CREATE TABLE taggings (
    id serial PRIMARY KEY,
    tag_id integer,
    taggable_type character varying,
    taggable_id integer,
    tagger_type character varying,
    tagger_id integer,
    context character varying(128),
    created_at timestamp without time zone
);

-- The account's label catalogue; titles are lowercase.
CREATE TABLE labels (
    id bigserial PRIMARY KEY,
    title character varying,
    description text,
    color character varying DEFAULT '#1f93ff'::character varying NOT NULL,
    show_on_sidebar boolean,
    account_id bigint,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

CREATE TABLE csat_survey_responses (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    message_id bigint NOT NULL,
    rating integer NOT NULL,
    feedback_message text,
    contact_id bigint NOT NULL,
    assigned_agent_id bigint,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

-- Opening hours of an inbox: Chatwoot creates seven rows (one per weekday, 0 = Sunday) for
-- every inbox and applies them only when inboxes.working_hours_enabled; hours are local time in
-- inboxes.timezone.
CREATE TABLE working_hours (
    id bigserial PRIMARY KEY,
    inbox_id bigint,
    account_id bigint,
    day_of_week integer NOT NULL,
    closed_all_day boolean DEFAULT false,
    open_hour integer,
    open_minutes integer,
    close_hour integer,
    close_minutes integer,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    open_all_day boolean DEFAULT false
);

-- Written asynchronously by Chatwoot's ReportingEventListener: created_at lags,
-- event_end_time is the business time; value and value_in_business_hours are seconds.
CREATE TABLE reporting_events (
    id bigserial PRIMARY KEY,
    name character varying,
    value double precision,
    account_id integer,
    inbox_id integer,
    user_id integer,
    conversation_id integer,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    value_in_business_hours double precision,
    event_start_time timestamp without time zone,
    event_end_time timestamp without time zone
);

-- Indexes, after all the tables (as pg_dump writes them): chatwoot.CreateDemo bulk-loads
-- the empty tables first and builds the indexes afterwards, which is several times faster
-- than maintaining them row by row. Keep this marker line: the Go code splits here.
-- geniai:indexes

CREATE INDEX index_inboxes_on_account_id ON inboxes USING btree (account_id);
CREATE INDEX index_inboxes_on_channel_id_and_channel_type ON inboxes USING btree (channel_id, channel_type);
CREATE INDEX index_inboxes_on_portal_id ON inboxes USING btree (portal_id);

CREATE INDEX index_working_hours_on_account_id ON working_hours USING btree (account_id);
CREATE INDEX index_working_hours_on_inbox_id ON working_hours USING btree (inbox_id);

CREATE UNIQUE INDEX index_channel_whatsapp_on_phone_number ON channel_whatsapp USING btree (phone_number);

CREATE UNIQUE INDEX index_conversations_on_account_id_and_display_id ON conversations USING btree (account_id, display_id);
CREATE INDEX index_conversations_on_id_and_account_id ON conversations USING btree (account_id, id);
CREATE INDEX conv_acid_inbid_stat_asgnid_idx ON conversations USING btree (account_id, inbox_id, status, assignee_id);
CREATE INDEX index_conversations_on_account_id ON conversations USING btree (account_id);
CREATE INDEX index_conversations_on_assignee_id_and_account_id ON conversations USING btree (assignee_id, account_id);
CREATE INDEX index_conversations_on_campaign_id ON conversations USING btree (campaign_id);
CREATE INDEX index_conversations_on_contact_id ON conversations USING btree (contact_id);
CREATE INDEX index_conversations_on_contact_inbox_id ON conversations USING btree (contact_inbox_id);
CREATE INDEX index_conversations_on_first_reply_created_at ON conversations USING btree (first_reply_created_at);
CREATE INDEX index_conversations_on_identifier_and_account_id ON conversations USING btree (identifier, account_id);
CREATE INDEX index_conversations_on_inbox_id ON conversations USING btree (inbox_id);
CREATE INDEX index_conversations_on_priority ON conversations USING btree (priority);
CREATE INDEX index_conversations_on_status_and_account_id ON conversations USING btree (status, account_id);
CREATE INDEX index_conversations_on_status_and_priority ON conversations USING btree (status, priority);
CREATE INDEX index_conversations_on_team_id ON conversations USING btree (team_id);
CREATE UNIQUE INDEX index_conversations_on_uuid ON conversations USING btree (uuid);
CREATE INDEX index_conversations_on_waiting_since ON conversations USING btree (waiting_since);

-- Chatwoot's indexes on messages. Deliberately none on updated_at (as in Chatwoot):
-- incremental reads must key on conversations.updated_at instead.
CREATE INDEX idx_messages_account_content_created ON messages USING btree (account_id, content_type, created_at);
CREATE INDEX index_messages_on_account_created_type ON messages USING btree (account_id, created_at, message_type);
CREATE INDEX index_messages_on_account_id_and_inbox_id ON messages USING btree (account_id, inbox_id);
CREATE INDEX index_messages_on_account_id ON messages USING btree (account_id);
CREATE INDEX index_messages_on_conversation_account_type_created ON messages USING btree (conversation_id, account_id, message_type, created_at);
CREATE INDEX index_messages_on_conversation_id ON messages USING btree (conversation_id);
CREATE INDEX index_messages_on_created_at ON messages USING btree (created_at);
CREATE INDEX index_messages_on_inbox_id ON messages USING btree (inbox_id);
CREATE INDEX index_messages_on_sender_type_and_sender_id ON messages USING btree (sender_type, sender_id);
CREATE INDEX index_messages_on_source_id ON messages USING btree (source_id);

CREATE INDEX index_contacts_on_lower_email_account_id ON contacts USING btree (lower((email)::text), account_id);
CREATE INDEX index_contacts_on_nonempty_fields ON contacts USING btree (account_id, email, phone_number, identifier)
    WHERE (((email)::text <> ''::text) OR ((phone_number)::text <> ''::text) OR ((identifier)::text <> ''::text));
CREATE INDEX index_contacts_on_account_id ON contacts USING btree (account_id);
CREATE UNIQUE INDEX uniq_email_per_account_contact ON contacts USING btree (email, account_id);
CREATE UNIQUE INDEX uniq_identifier_per_account_contact ON contacts USING btree (identifier, account_id);
CREATE INDEX index_contacts_on_phone_number_and_account_id ON contacts USING btree (phone_number, account_id);

CREATE INDEX index_users_on_email ON users USING btree (email);
CREATE UNIQUE INDEX index_users_on_pubsub_token ON users USING btree (pubsub_token);
CREATE UNIQUE INDEX index_users_on_reset_password_token ON users USING btree (reset_password_token);
CREATE UNIQUE INDEX index_users_on_uid_and_provider ON users USING btree (uid, provider);

CREATE UNIQUE INDEX uniq_user_id_per_account_id ON account_users USING btree (account_id, user_id);
CREATE INDEX index_account_users_on_account_id ON account_users USING btree (account_id);
CREATE INDEX index_account_users_on_user_id ON account_users USING btree (user_id);

CREATE INDEX index_teams_on_account_id ON teams USING btree (account_id);
CREATE UNIQUE INDEX index_teams_on_name_and_account_id ON teams USING btree (name, account_id);

CREATE UNIQUE INDEX index_tags_on_name ON tags USING btree (name);

CREATE INDEX index_taggings_on_context ON taggings USING btree (context);
CREATE UNIQUE INDEX taggings_idx ON taggings USING btree (tag_id, taggable_id, taggable_type, context, tagger_id, tagger_type);
CREATE INDEX index_taggings_on_tag_id ON taggings USING btree (tag_id);
CREATE INDEX taggings_taggable_context_idx ON taggings USING btree (taggable_id, taggable_type, context);
CREATE INDEX index_taggings_on_taggable_id_and_taggable_type ON taggings USING btree (taggable_id, taggable_type);
CREATE INDEX index_taggings_on_taggable_id ON taggings USING btree (taggable_id);
CREATE INDEX index_taggings_on_taggable_type ON taggings USING btree (taggable_type);
CREATE INDEX index_taggings_on_tagger_id_and_tagger_type ON taggings USING btree (tagger_id, tagger_type);
CREATE INDEX index_taggings_on_tagger_id ON taggings USING btree (tagger_id);

CREATE INDEX index_labels_on_account_id ON labels USING btree (account_id);
CREATE UNIQUE INDEX index_labels_on_title_and_account_id ON labels USING btree (title, account_id);

CREATE INDEX index_csat_survey_responses_on_account_id ON csat_survey_responses USING btree (account_id);
CREATE INDEX index_csat_survey_responses_on_assigned_agent_id ON csat_survey_responses USING btree (assigned_agent_id);
CREATE INDEX index_csat_survey_responses_on_contact_id ON csat_survey_responses USING btree (contact_id);
CREATE INDEX index_csat_survey_responses_on_conversation_id ON csat_survey_responses USING btree (conversation_id);
CREATE UNIQUE INDEX index_csat_survey_responses_on_message_id ON csat_survey_responses USING btree (message_id);

CREATE INDEX reporting_events__account_id__name__created_at ON reporting_events USING btree (account_id, name, created_at);
CREATE INDEX index_reporting_events_for_response_distribution ON reporting_events USING btree (account_id, name, inbox_id, created_at);
CREATE INDEX index_reporting_events_on_account_id ON reporting_events USING btree (account_id);
CREATE INDEX index_reporting_events_on_conversation_id ON reporting_events USING btree (conversation_id);
CREATE INDEX index_reporting_events_on_created_at ON reporting_events USING btree (created_at);
CREATE INDEX index_reporting_events_on_inbox_id ON reporting_events USING btree (inbox_id);
CREATE INDEX index_reporting_events_on_user_id ON reporting_events USING btree (user_id);
