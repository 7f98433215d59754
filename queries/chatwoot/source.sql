-- name: InboxList :many
-- InboxList lists every inbox with its account, for the admin onboarding wizard that
-- maps Chatwoot inboxes to tenants.
SELECT i.id,
       i.account_id,
       a.name AS account_name,
       i.name,
       i.channel_type
FROM inboxes i
JOIN accounts a ON a.id = i.account_id
ORDER BY i.account_id, i.id;

-- name: ConversationIDsByInboxes :many
-- ConversationIDsByInboxes returns the ids of all conversations in the given inboxes,
-- in ascending order: the ETL compares them with its own copy to find conversations
-- deleted in Chatwoot (index_conversations_on_inbox_id serves it).
SELECT id
FROM conversations
WHERE inbox_id = ANY(@inbox_ids::int[])
ORDER BY id;

-- name: SourceColumnsCheck :many
-- SourceColumnsCheck returns the (table, column) pairs the ETL reads that the
-- connected Chatwoot database lacks, in the current schema, so that the ETL can refuse
-- to run and name what is missing (self-hosted installs span Chatwoot versions).
-- information_schema only shows columns the current role may access, so a column the
-- read-only role cannot SELECT is reported as missing too. Empty result: all present.
SELECT want.table_name::text AS table_name,
       want.column_name::text AS column_name
FROM (
    VALUES
        ('accounts', 'id'), ('accounts', 'name'), ('accounts', 'status'),
        ('accounts', 'created_at'), ('accounts', 'updated_at'),
        ('inboxes', 'id'), ('inboxes', 'account_id'), ('inboxes', 'name'), ('inboxes', 'channel_type'),
        ('inboxes', 'channel_id'), ('inboxes', 'timezone'), ('inboxes', 'working_hours_enabled'),
        ('inboxes', 'csat_survey_enabled'), ('inboxes', 'created_at'), ('inboxes', 'updated_at'),
        ('channel_whatsapp', 'id'), ('channel_whatsapp', 'account_id'), ('channel_whatsapp', 'phone_number'),
        ('channel_whatsapp', 'provider'),
        ('conversations', 'id'), ('conversations', 'account_id'), ('conversations', 'inbox_id'),
        ('conversations', 'display_id'), ('conversations', 'uuid'), ('conversations', 'status'),
        ('conversations', 'priority'), ('conversations', 'assignee_id'), ('conversations', 'team_id'),
        ('conversations', 'contact_id'), ('conversations', 'contact_inbox_id'), ('conversations', 'campaign_id'),
        ('conversations', 'created_at'), ('conversations', 'updated_at'), ('conversations', 'last_activity_at'),
        ('conversations', 'first_reply_created_at'), ('conversations', 'waiting_since'),
        ('conversations', 'snoozed_until'), ('conversations', 'contact_last_seen_at'),
        ('conversations', 'agent_last_seen_at'), ('conversations', 'additional_attributes'),
        ('conversations', 'custom_attributes'), ('conversations', 'cached_label_list'),
        ('messages', 'id'), ('messages', 'account_id'), ('messages', 'inbox_id'), ('messages', 'conversation_id'),
        ('messages', 'message_type'), ('messages', 'private'), ('messages', 'content'),
        ('messages', 'content_type'), ('messages', 'content_attributes'), ('messages', 'sender_type'),
        ('messages', 'sender_id'), ('messages', 'source_id'), ('messages', 'status'),
        ('messages', 'created_at'), ('messages', 'updated_at'),
        ('contacts', 'id'), ('contacts', 'account_id'), ('contacts', 'name'), ('contacts', 'email'),
        ('contacts', 'phone_number'), ('contacts', 'identifier'), ('contacts', 'contact_type'),
        ('contacts', 'blocked'), ('contacts', 'created_at'), ('contacts', 'updated_at'),
        ('users', 'id'), ('users', 'name'), ('users', 'display_name'), ('users', 'email'),
        ('account_users', 'account_id'), ('account_users', 'user_id'), ('account_users', 'role'),
        ('teams', 'id'), ('teams', 'account_id'), ('teams', 'name'),
        ('tags', 'id'), ('tags', 'name'),
        ('taggings', 'id'), ('taggings', 'tag_id'), ('taggings', 'taggable_type'), ('taggings', 'taggable_id'),
        ('taggings', 'context'), ('taggings', 'created_at'),
        ('labels', 'id'), ('labels', 'account_id'), ('labels', 'title'), ('labels', 'color'),
        ('csat_survey_responses', 'id'), ('csat_survey_responses', 'account_id'),
        ('csat_survey_responses', 'conversation_id'), ('csat_survey_responses', 'message_id'),
        ('csat_survey_responses', 'contact_id'), ('csat_survey_responses', 'rating'),
        ('csat_survey_responses', 'feedback_message'), ('csat_survey_responses', 'assigned_agent_id'),
        ('csat_survey_responses', 'created_at'), ('csat_survey_responses', 'updated_at'),
        ('reporting_events', 'id'), ('reporting_events', 'name'), ('reporting_events', 'value'),
        ('reporting_events', 'value_in_business_hours'), ('reporting_events', 'account_id'),
        ('reporting_events', 'inbox_id'), ('reporting_events', 'user_id'), ('reporting_events', 'conversation_id'),
        ('reporting_events', 'event_start_time'), ('reporting_events', 'event_end_time'),
        ('reporting_events', 'created_at'), ('reporting_events', 'updated_at')
) AS want (table_name, column_name)
WHERE NOT EXISTS (
    SELECT 1
    FROM information_schema.columns c
    WHERE c.table_schema = current_schema()
      AND c.table_name = want.table_name
      AND c.column_name = want.column_name
)
ORDER BY want.table_name, want.column_name;

-- name: SourceCounts :one
-- SourceCounts counts the rows of the main Chatwoot tables (the demo generator's
-- summary; also a cheap size probe of a real source).
SELECT (SELECT count(*) FROM accounts) AS accounts,
       (SELECT count(*) FROM inboxes) AS inboxes,
       (SELECT count(*) FROM users) AS users,
       (SELECT count(*) FROM contacts) AS contacts,
       (SELECT count(*) FROM conversations) AS conversations,
       (SELECT count(*) FROM messages) AS messages,
       (SELECT count(*) FROM reporting_events) AS reporting_events,
       (SELECT count(*) FROM csat_survey_responses) AS csat_survey_responses,
       (SELECT count(*) FROM taggings) AS taggings;
