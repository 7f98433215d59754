-- Outgoing e-mail: enqueue (any context that may send for its tenant), the worker's claim and
-- record (staff, actor mailer), the send log (staff).

-- name: MailEnqueue :one
-- MailEnqueue queues one message with its files (parallel arrays; an empty content id is a plain
-- attachment, a set one an inline image) and returns its outbox id.
SELECT app.mail_enqueue(@tenant_id::bigint, @kind::text, sqlc.narg('ref')::text,
                        sqlc.narg('recipient_user_id')::bigint, @to_address::text, @to_name::text,
                        @subject::text, @text_body::text, @html_body::text, @headers::jsonb,
                        @message_id::text, @scrub::boolean, @att_names::text[], @att_types::text[],
                        @att_cids::text[], @att_data::bytea[])::bigint AS id;

-- name: MailCancel :one
-- MailCancel cancels a tenant's still-queued messages with the given ref; returns how many.
SELECT app.mail_cancel(@tenant_id::bigint, @ref::text, @reason::text)::integer AS cancelled;

-- name: MailClaim :many
-- MailClaim leases up to lim due messages to this worker for lease_seconds.
SELECT c.tenant_id::bigint AS tenant_id,
       c.id::bigint AS id,
       c.attempt::integer AS attempt,
       c.to_address::text AS to_address,
       c.to_name::text AS to_name,
       c.subject::text AS subject,
       c.text_body::text AS text_body,
       c.html_body::text AS html_body,
       c.headers::jsonb AS headers,
       c.message_id::text AS message_id
FROM app.mail_claim(@lim::integer, @lease_seconds::integer) AS c;

-- name: MailAttachments :many
-- MailAttachments lists a claimed message's files in order.
SELECT position, filename, content_type, coalesce(content_id, '')::text AS content_id, data
FROM app.mail_attachments
WHERE tenant_id = @tenant_id AND message_id = @message_id
ORDER BY position;

-- name: MailRecord :one
-- MailRecord closes an attempt: sent, or failed (retried with backoff unless permanent or out of
-- attempts). Returns the message's new status, or stale when another worker owns it now.
SELECT app.mail_record(@tenant_id::bigint, @id::bigint, @attempt::integer, @sent::boolean,
                       @error::text, @permanent::boolean)::text AS status;

-- name: MailLog :many
-- MailLog is a tenant's send log, newest first (staff): no bodies.
SELECT o.id, o.kind, coalesce(o.ref, '')::text AS ref, o.to_address, o.subject, o.status, o.attempts,
       coalesce(o.last_error, '')::text AS last_error, o.created_at, o.sent_at, o.next_attempt_at,
       o.message_id
FROM app.mail_outbox o
WHERE o.tenant_id = @tenant_id
ORDER BY o.created_at DESC, o.id DESC
LIMIT @lim;

-- name: MailAttemptsOf :many
-- MailAttemptsOf lists the attempts of one message (staff).
SELECT a.attempt, a.started_at, a.finished_at, coalesce(a.outcome, '')::text AS outcome,
       coalesce(a.error, '')::text AS error
FROM app.mail_attempts a
WHERE a.tenant_id = @tenant_id AND a.message_id = @message_id
ORDER BY a.attempt;

-- name: MailStatusCounts :many
-- MailStatusCounts counts messages per status (staff; the overview and tests).
SELECT o.status, count(*)::bigint AS messages
FROM app.mail_outbox o
GROUP BY o.status
ORDER BY o.status;

-- name: MailQueueDepth :one
-- MailQueueDepth is the outgoing queue as /metrics shows it (staff): messages waiting (queued,
-- whether due or backing off), in flight (sending), and how long the oldest due message has been
-- waiting past its due time (0 when none is). Reads only the rows of the due index.
SELECT count(*) FILTER (WHERE o.status = 'queued')::bigint AS queued,
       count(*) FILTER (WHERE o.status = 'sending')::bigint AS sending,
       coalesce(extract(epoch FROM now() - min(o.next_attempt_at)
                        FILTER (WHERE o.status = 'queued' AND o.next_attempt_at <= now())), 0)::float8
           AS oldest_due_seconds
FROM app.mail_outbox o
WHERE o.status IN ('queued', 'sending');

-- name: UserSetOwnLanguage :exec
-- UserSetOwnLanguage stores the context user's language (pt-BR or en).
SELECT app.user_set_own_language(@language::text);

-- name: UserOwnLanguage :one
-- UserOwnLanguage is the context user's stored language.
SELECT language FROM app.users WHERE id = app.current_user_id();
