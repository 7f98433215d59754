-- name: EtlLockTry :one
-- EtlLockTry takes the session-level advisory lock that serialises runs of one tenant; false
-- means another runner holds it. Session-level on purpose: it spans the run's transactions.
SELECT pg_try_advisory_lock(@class::integer, @tenant_id::integer) AS locked;

-- name: EtlLockRelease :one
-- EtlLockRelease releases the lock taken by EtlLockTry.
SELECT pg_advisory_unlock(@class::integer, @tenant_id::integer) AS released;

-- name: EtlRunsMarkStale :execrows
-- EtlRunsMarkStale closes runs of the tenant left running by a process that died; called while
-- holding the tenant's lock, so no live runner owns them.
UPDATE etl.runs
SET status = 'stale', finished_at = statement_timestamp(), error = 'o processo parou antes de terminar'
WHERE tenant_id = @tenant_id AND status = 'running';

-- name: EtlRunStart :one
-- EtlRunStart records a new run of the tenant.
INSERT INTO etl.runs (tenant_id, full_load, worker)
VALUES (@tenant_id, @full_load, @worker)
RETURNING id, started_at;

-- name: EtlRunFail :exec
-- EtlRunFail marks a run failed with the reason shown to operators.
UPDATE etl.runs
SET status = 'failed', finished_at = statement_timestamp(), error = @error::text
WHERE tenant_id = @tenant_id AND id = @id AND status = 'running';

-- name: EtlTenantInboxIDs :many
-- EtlTenantInboxIDs lists the Chatwoot inboxes mapped to the tenant.
SELECT inbox_id
FROM app.tenant_inboxes
WHERE tenant_id = @tenant_id
ORDER BY inbox_id;

-- name: EtlTenantList :many
-- EtlTenantList lists the client tenants the scheduler loads (not the platform, not cancelled).
SELECT id, slug
FROM app.tenants
WHERE NOT is_platform AND status <> 'cancelled'
ORDER BY id;

-- name: EtlStageIDsCopy :copyfrom
-- EtlStageIDsCopy streams the source id set of a run into staging.
INSERT INTO etl.stage_ids (tenant_id, run_id, conversation_id, updated_at)
VALUES (@tenant_id, @run_id, @conversation_id, @updated_at);

-- name: EtlStageConversationsCopy :copyfrom
-- EtlStageConversationsCopy streams extracted conversations of a run, each with its public
-- transcript (parallel arrays, oldest first), into staging.
INSERT INTO etl.stage_conversations (
    tenant_id, run_id, chunk, conversation_id, account_id, inbox_id, display_id, channel_type, status, priority,
    contact_id, contact_name, contact_phone, assignee_id, team_id, labels, created_at, updated_at,
    last_activity_at, contact_messages, bot_messages, human_messages, private_notes,
    first_contact_at, first_reply_at, first_human_reply_at, last_message_at, handoff,
    resolved_event_at, csat_rating, csat_at, search_text, message_ids, message_created_at,
    message_senders, message_types, message_contents, message_deleted, handoff_requested_at,
    last_contact_at, last_human_at, waiting_contact_at, human_wait_from, human_wait_reply_at)
VALUES (
    @tenant_id, @run_id, @chunk, @conversation_id, @account_id, @inbox_id, @display_id, @channel_type, @status, @priority,
    @contact_id, @contact_name, @contact_phone, @assignee_id, @team_id, @labels, @created_at, @updated_at,
    @last_activity_at, @contact_messages, @bot_messages, @human_messages, @private_notes,
    @first_contact_at, @first_reply_at, @first_human_reply_at, @last_message_at, @handoff,
    @resolved_event_at, @csat_rating, @csat_at, @search_text, @message_ids, @message_created_at,
    @message_senders, @message_types, @message_contents, @message_deleted, @handoff_requested_at,
    @last_contact_at, @last_human_at, @waiting_contact_at, @human_wait_from, @human_wait_reply_at);

-- name: EtlIDsToExtract :many
-- EtlIDsToExtract chooses the staged ids to extract: missing here, changed in the source,
-- changed within the overlap window before the previous run read the source (late reporting
-- events and CSAT answers do not move updated_at), or all (a full load, or the watermark asks
-- for a complete re-read after a migration added extracted columns).
SELECT s.conversation_id
FROM etl.stage_ids s
LEFT JOIN analytics.conversations c
       ON c.tenant_id = @tenant_id AND c.conversation_id = s.conversation_id
WHERE s.tenant_id = @tenant_id AND s.run_id = @run_id
  AND (@full_load::boolean
       OR coalesce((SELECT w.reread_all FROM etl.watermarks w WHERE w.tenant_id = @tenant_id), false)
       OR c.conversation_id IS NULL
       OR c.source_updated_at IS DISTINCT FROM s.updated_at
       OR s.updated_at >= (SELECT coalesce(w.source_checked_at, w.source_updated_at) - make_interval(secs => @overlap_seconds::double precision)
                           FROM etl.watermarks w WHERE w.tenant_id = @tenant_id))
ORDER BY s.conversation_id;

-- name: EtlSyncInboxes :many
-- EtlSyncInboxes stores the tenant's inboxes as the source describes them and re-applies the
-- opening hours of those that changed (etl.sync_inboxes); it returns the inboxes whose timezone
-- PostgreSQL does not know, which use the tenant's.
SELECT s.inbox_id::integer AS inbox_id, s.source_timezone::text AS source_timezone
FROM etl.sync_inboxes(@run_id::bigint, @ids::integer[], @channel_types::text[], @timezones::text[],
                      @enabled::boolean[], @signatures::text[], @wh_inboxes::integer[], @wh_days::integer[],
                      @wh_closed::boolean[], @wh_open_all::boolean[], @wh_open_hours::integer[],
                      @wh_open_minutes::integer[], @wh_close_hours::integer[], @wh_close_minutes::integer[]) s;

-- name: EtlMergeChunk :exec
-- EtlMergeChunk merges the chunk just staged (etl.merge_chunk), in the run's transaction.
SELECT etl.merge_chunk(@run_id::bigint, @chunk::integer);

-- name: EtlUnchanged :one
-- EtlUnchanged reports whether the current tenant has nothing to read (etl.source_unchanged): the
-- source fingerprint equals what its last successful run stored, nothing changed within the
-- overlap window before that run, the stored days and funnel stages were computed with the
-- tenant's current timezone and rules, and the inboxes' descriptions (@inbox_ids and their
-- @inbox_signatures from the source, ordered by inbox) are those stored.
SELECT etl.source_unchanged(@conversations::bigint, @hash::bigint, sqlc.narg('max_updated_at')::timestamptz,
                            @overlap_seconds::double precision, @inbox_ids::integer[], @inbox_signatures::text[])::boolean AS unchanged;

-- name: EtlPassInboxes :many
-- EtlPassInboxes lists the Chatwoot inboxes mapped to each of the tenants (etl.pass_inboxes, each
-- read as that tenant): one statement for a whole pass.
SELECT p.tenant_id::bigint AS tenant_id, p.inbox_ids::integer[] AS inbox_ids
FROM etl.pass_inboxes(@tenant_ids::bigint[]) p;

-- name: EtlSettleUnchanged :many
-- EtlSettleUnchanged records the unchanged check of every tenant of the batch the source shows
-- unchanged and no other runner holds (etl.settle_unchanged): tenant i's fingerprint is
-- (@conversations[i], @hashes[i], @max_updated_at[i]: a time before any conversation when it has
-- none), its inboxes' descriptions @inbox_ids and @inbox_signatures from @inbox_offsets[i] + 1
-- to @inbox_offsets[i + 1]. Returns the tenants settled and the run that stands for each check.
SELECT s.tenant_id::bigint AS tenant_id, s.run_id::bigint AS run_id
FROM etl.settle_unchanged(@lock_class::integer, @source_now::timestamptz, @overlap_seconds::double precision,
                          @worker::text, @tenant_ids::bigint[], @conversations::bigint[], @hashes::bigint[],
                          @max_updated_at::timestamptz[], @inbox_offsets::integer[], @inbox_ids::integer[],
                          @inbox_signatures::text[]) s;

-- name: EtlRunUnchanged :one
-- EtlRunUnchanged completes a run that found nothing to read (etl.finish_unchanged_run): folded
-- into the tenant's previous row when that is an unchanged success, else succeeded with zero
-- counts; the watermark records the success and the source clock it checked at. Returns the id
-- of the row that stands for the check (0 when the run was not running).
SELECT coalesce(etl.finish_unchanged_run(@run_id::bigint, @source_now::timestamptz), 0)::bigint AS id;

-- name: EtlStoreFingerprint :exec
-- EtlStoreFingerprint records, after a merge, the fingerprint of what is now stored and the
-- source clock of the id set the run read, and moves the tenant's data version (cached
-- dashboards of the previous one are stale).
UPDATE etl.watermarks w
SET source_checked_at = @source_now::timestamptz, source_count = f.n, source_hash = f.h,
    data_version = w.data_version + 1
FROM (SELECT count(*)::bigint AS n,
             coalesce(sum(etl.fingerprint_hash(c.conversation_id, c.source_updated_at)) % 9223372036854775783, 0)::bigint AS h
      FROM analytics.conversations c
      WHERE c.tenant_id = @tenant_id) f
WHERE w.tenant_id = @tenant_id;

-- name: EtlMergeRun :exec
-- EtlMergeRun completes the staged run (etl.merge_run): deletions, rollups, watermark.
SELECT etl.merge_run(@run_id::bigint);

-- name: EtlRunGet :one
-- EtlRunGet reads one run of the tenant.
SELECT tenant_id, id, started_at, finished_at, status, full_load, extracted, inserted, updated,
       deleted, messages, error, worker
FROM etl.runs
WHERE tenant_id = @tenant_id AND id = @id;

-- name: EtlStatusList :many
-- EtlStatusList is the per-tenant ETL health: last success, watermark and the latest run, and
-- the tenant's status (a cancelled tenant is no longer synced, so its lag means nothing).
SELECT t.id AS tenant_id, t.slug, t.status AS tenant_status, w.last_success_at, w.source_updated_at,
       coalesce(r.id, 0)::bigint AS run_id, coalesce(r.status, '')::text AS run_status,
       r.finished_at AS run_finished_at, r.error AS run_error,
       coalesce(r.extracted, 0)::integer AS extracted, coalesce(r.inserted, 0)::integer AS inserted,
       coalesce(r.updated, 0)::integer AS updated, coalesce(r.deleted, 0)::integer AS deleted,
       coalesce(r.messages, 0)::integer AS messages
FROM app.tenants t
LEFT JOIN etl.watermarks w ON w.tenant_id = t.id
-- A per-tenant function, not a LATERAL subquery: on Citus it is one query on the tenant's worker.
LEFT JOIN LATERAL etl.latest_run(t.id) r ON true
WHERE NOT t.is_platform
ORDER BY t.slug;

-- name: EtlRefreshStatistics :one
-- EtlRefreshStatistics analyses the analytics tables that grew by a fifth since the planner last
-- looked (etl.refresh_statistics) and names them.
SELECT etl.refresh_statistics()::text[] AS analyzed;
