-- Sync runs that changed nothing are folded into one row per stretch (docs/etl.md). With a check
-- a minute, etl.runs grew by 1,440 rows a day per tenant, nearly all "0 lidas". A run that finds
-- the source unchanged now extends the tenant's previous row when that row is itself an
-- unchanged success: checks counts them, last_check_at is the latest. Any run that reads
-- something, fails or is a full load starts a new row, so the history keeps every change and
-- every failure, and a quiet tenant costs one row per quiet stretch.

ALTER TABLE etl.runs ADD COLUMN unchanged boolean NOT NULL DEFAULT false;
ALTER TABLE etl.runs ADD COLUMN checks integer NOT NULL DEFAULT 1;
ALTER TABLE etl.runs ADD COLUMN last_check_at timestamptz;
ALTER TABLE etl.runs ADD CONSTRAINT runs_checks_check CHECK (checks >= 1 AND (checks = 1 OR unchanged)) NOT VALID;
ALTER TABLE etl.runs VALIDATE CONSTRAINT runs_checks_check;
COMMENT ON COLUMN etl.runs.unchanged IS 'The run found the source unchanged (fingerprint equal) and read nothing.';
COMMENT ON COLUMN etl.runs.checks IS 'Consecutive unchanged checks this row stands for (1 for every other run).';
COMMENT ON COLUMN etl.runs.last_check_at IS 'When the latest of those checks finished (unchanged runs; NULL otherwise).';

GRANT UPDATE (unchanged, checks, last_check_at) ON etl.runs TO geniai_etl;
GRANT DELETE ON etl.runs TO geniai_etl;

CREATE FUNCTION etl.finish_unchanged_run(p_run_id bigint, p_source_now timestamptz) RETURNS bigint
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    AS $$
DECLARE
    t bigint := app.current_tenant_id();
    v_at timestamptz := clock_timestamp();
    kept bigint;
    prev_id bigint;
    prev_unchanged boolean;
    prev_status text;
BEGIN
    SELECT r.id, r.unchanged, r.status INTO prev_id, prev_unchanged, prev_status
    FROM etl.runs r
    WHERE r.tenant_id = t AND r.id < p_run_id
    ORDER BY r.id DESC
    LIMIT 1;
    IF prev_unchanged AND prev_status = 'succeeded' THEN
        DELETE FROM etl.runs r WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running';
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        UPDATE etl.runs r SET checks = r.checks + 1, last_check_at = v_at
        WHERE r.tenant_id = t AND r.id = prev_id;
        kept := prev_id;
    ELSE
        UPDATE etl.runs r SET status = 'succeeded', finished_at = v_at, unchanged = true, last_check_at = v_at
        WHERE r.tenant_id = t AND r.id = p_run_id AND r.status = 'running'
        RETURNING r.id INTO kept;
        IF kept IS NULL THEN
            RETURN NULL;
        END IF;
    END IF;
    UPDATE etl.watermarks w
    SET last_success_at = v_at, last_run_id = kept, updated_at = v_at, source_checked_at = p_source_now
    WHERE w.tenant_id = t;
    RETURN kept;
END
$$;
COMMENT ON FUNCTION etl.finish_unchanged_run(bigint, timestamptz) IS 'Completes a running run of the current tenant that found the source unchanged: folded into the previous row when that is an unchanged success (checks + 1, this row deleted), else succeeded as the first of a new stretch; the watermark records the success. Returns the id of the row that now stands for the check, NULL when the run was not running.';
REVOKE ALL ON FUNCTION etl.finish_unchanged_run(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl.finish_unchanged_run(bigint, timestamptz) TO geniai_etl;

-- Fold the history already recorded: a succeeded incremental run that read, wrote and deleted
-- nothing was an unchanged check. Consecutive ones keep their first row, counted. The owner is
-- subject to RLS (FORCE) and has no policy; lifting FORCE inside this transaction is invisible
-- to others.
ALTER TABLE etl.runs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE etl.watermarks NO FORCE ROW LEVEL SECURITY;
UPDATE etl.runs SET unchanged = true, last_check_at = finished_at
WHERE status = 'succeeded' AND NOT full_load
  AND extracted = 0 AND inserted = 0 AND updated = 0 AND deleted = 0 AND messages = 0;
CREATE TEMP TABLE runs_fold ON COMMIT DROP AS
SELECT g.tenant_id, min(g.id) AS head, count(*)::integer AS n, max(g.finished_at) AS last_at,
       array_agg(g.id) AS ids
FROM (SELECT r.tenant_id, r.id, r.unchanged, r.finished_at,
             count(*) FILTER (WHERE NOT r.unchanged) OVER (PARTITION BY r.tenant_id ORDER BY r.id) AS stretch
      FROM etl.runs r) g
WHERE g.unchanged
GROUP BY g.tenant_id, g.stretch
HAVING count(*) > 1;
UPDATE etl.runs r SET checks = f.n, last_check_at = f.last_at
FROM runs_fold f WHERE r.tenant_id = f.tenant_id AND r.id = f.head;
UPDATE etl.watermarks w SET last_run_id = f.head
FROM runs_fold f WHERE w.tenant_id = f.tenant_id AND w.last_run_id = ANY (f.ids);
DELETE FROM etl.runs r
USING runs_fold f WHERE r.tenant_id = f.tenant_id AND r.id = ANY (f.ids) AND r.id <> f.head;
ALTER TABLE etl.runs FORCE ROW LEVEL SECURITY;
ALTER TABLE etl.watermarks FORCE ROW LEVEL SECURITY;

---- create above / drop below ----

DROP FUNCTION etl.finish_unchanged_run(bigint, timestamptz);
REVOKE DELETE ON etl.runs FROM geniai_etl;
ALTER TABLE etl.runs DROP CONSTRAINT runs_checks_check;
ALTER TABLE etl.runs DROP COLUMN last_check_at;
ALTER TABLE etl.runs DROP COLUMN checks;
ALTER TABLE etl.runs DROP COLUMN unchanged;
