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
