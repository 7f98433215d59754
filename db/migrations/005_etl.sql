-- ETL bookkeeping: one row per run, one watermark per tenant.

CREATE TABLE etl.runs (
    tenant_id     bigint      NOT NULL,
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at   timestamptz,
    status        text        NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'failed', 'stale')),
    full_load     boolean     NOT NULL DEFAULT false,
    extracted     integer     NOT NULL DEFAULT 0 CHECK (extracted >= 0),
    inserted      integer     NOT NULL DEFAULT 0 CHECK (inserted >= 0),
    updated       integer     NOT NULL DEFAULT 0 CHECK (updated >= 0),
    deleted       integer     NOT NULL DEFAULT 0 CHECK (deleted >= 0),
    messages      integer     NOT NULL DEFAULT 0 CHECK (messages >= 0),
    error         text,
    worker        text        NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    CHECK ((status = 'running') = (finished_at IS NULL)),
    CHECK (status <> 'failed' OR error IS NOT NULL)
);
COMMENT ON TABLE etl.runs IS 'Every ETL run of a tenant: when, how it ended, what it changed, and why it failed.';
COMMENT ON COLUMN etl.runs.status IS 'running; succeeded; failed (error says why); stale (the process died, found by a later run).';
COMMENT ON COLUMN etl.runs.full_load IS 'True for --full runs that ignore the watermark.';
COMMENT ON COLUMN etl.runs.extracted IS 'Conversations read from Chatwoot.';
COMMENT ON COLUMN etl.runs.worker IS 'host:pid of the process that ran it.';
CREATE INDEX runs_tenant_started_idx ON etl.runs (tenant_id, started_at DESC);

CREATE TABLE etl.watermarks (
    tenant_id         bigint      NOT NULL PRIMARY KEY,
    source_updated_at timestamptz,
    last_success_at   timestamptz,
    last_run_id       bigint,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE etl.watermarks IS 'Per tenant: how far the ETL has read. Moves only in the transaction that applies the data.';
COMMENT ON COLUMN etl.watermarks.source_updated_at IS 'Greatest Chatwoot conversations.updated_at applied; the next run reads from it minus an overlap window.';

ALTER TABLE etl.runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE etl.runs FORCE ROW LEVEL SECURITY;
ALTER TABLE etl.watermarks ENABLE ROW LEVEL SECURITY;
ALTER TABLE etl.watermarks FORCE ROW LEVEL SECURITY;

CREATE POLICY runs_tenant_read ON etl.runs FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY runs_staff_read ON etl.runs FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY runs_etl_all ON etl.runs FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));

CREATE POLICY watermarks_tenant_read ON etl.watermarks FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY watermarks_staff_read ON etl.watermarks FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY watermarks_etl_all ON etl.watermarks FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));

GRANT SELECT ON etl.runs, etl.watermarks TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT (tenant_id, full_load, worker) ON etl.runs TO geniai_etl;
GRANT UPDATE (finished_at, status, extracted, inserted, updated, deleted, messages, error)
    ON etl.runs TO geniai_etl;
GRANT INSERT ON etl.watermarks TO geniai_etl;
GRANT UPDATE (source_updated_at, last_success_at, last_run_id, updated_at) ON etl.watermarks TO geniai_etl;

---- create above / drop below ----

DROP TABLE etl.watermarks;
DROP TABLE etl.runs;
