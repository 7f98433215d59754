-- name: ReplicaPrimaryPosition :one
-- ReplicaPrimaryPosition is the primary's current WAL position, in bytes: the read-replica lag
-- monitor samples it to know how old a replica's replay position is.
SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS position;

-- name: ReplicaReplayPosition :one
-- ReplicaReplayPosition is how far a replica has replayed the primary's WAL, in bytes, and
-- whether it is a replica at all (in recovery).
SELECT pg_is_in_recovery() AS in_recovery,
       coalesce((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, 0)::bigint AS position;
