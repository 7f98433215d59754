-- Cheap no-change runs (docs/adr/004-etl-change-detection-and-staging.md). Each run first asks the
-- source for a fingerprint of the tenant's id set (count and a hash sum of id and updated_at); when
-- it equals the fingerprint of what we store, nothing in the source needs re-reading and the run
-- ends without copying the id set. The overlap window now counts back from the source clock at the
-- previous successful run, not from the newest change: a conversation is re-read until a run has
-- seen it overlap-window after its change, then never again while it is unchanged.

ALTER TABLE etl.watermarks
    ADD COLUMN source_checked_at timestamptz,
    ADD COLUMN source_count bigint,
    ADD COLUMN source_hash bigint;
COMMENT ON COLUMN etl.watermarks.source_checked_at IS 'Source clock (now()) when the last successful run read the id set; the overlap window counts back from it.';
COMMENT ON COLUMN etl.watermarks.source_count IS 'Conversations stored for the tenant after the last successful run (fingerprint, with source_hash).';
COMMENT ON COLUMN etl.watermarks.source_hash IS 'etl.fingerprint_hash summed over the stored conversations modulo 9223372036854775783; the source query computes the same over its id set.';
GRANT UPDATE (source_checked_at, source_count, source_hash) ON etl.watermarks TO geniai_etl;

-- etl.fingerprint_hash is one conversation's share of the fingerprint. The source query
-- (queries/chatwoot/extract.sql, ExtractFingerprint) hashes Chatwoot's updated_at, a UTC
-- timestamp without time zone, with timestamp_hash_extended seeded with the id; here the stored
-- instant goes back to that UTC timestamp first, so the hashes are equal (and no numeric epoch
-- arithmetic runs per row: a third of the cost).
CREATE FUNCTION etl.fingerprint_hash(conversation_id integer, updated_at timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT timestamp_hash_extended(updated_at AT TIME ZONE 'UTC', conversation_id::bigint) $$;
COMMENT ON FUNCTION etl.fingerprint_hash(integer, timestamptz) IS 'Hash of a conversation id and its source updated_at, summed into the id-set fingerprint.';
GRANT EXECUTE ON FUNCTION etl.fingerprint_hash(integer, timestamptz) TO geniai_etl;

---- create above / drop below ----

DROP FUNCTION etl.fingerprint_hash(integer, timestamptz);
ALTER TABLE etl.watermarks DROP COLUMN source_hash, DROP COLUMN source_count, DROP COLUMN source_checked_at;
