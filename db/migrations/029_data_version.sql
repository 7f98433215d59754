-- A tenant's data version: a counter that moves whenever a sync changes what is stored (every
-- run that merges, never one that found the source unchanged). The server caches dashboard
-- results per (tenant, filter, data version, settings stamps), so the counter must move with
-- every write that can change a figure; the ETL's EtlStoreFingerprint, run in the merge's
-- transaction, increments it.

ALTER TABLE etl.watermarks ADD COLUMN data_version bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN etl.watermarks.data_version IS
    'Incremented in the transaction of every run that merged data: cached dashboard results of an older version are stale.';
GRANT UPDATE (data_version) ON etl.watermarks TO geniai_etl;

---- create above / drop below ----

ALTER TABLE etl.watermarks DROP COLUMN data_version;
