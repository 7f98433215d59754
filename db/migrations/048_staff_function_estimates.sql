-- The staff overview joins every client tenant with its latest ETL run through
-- etl.latest_run(tenant), a set-returning function the planner assumed returns 1,000 rows per
-- call. At 1,000 clients the plan looked a million rows big, crossed jit_above_cost, and JIT
-- compilation alone took about 100 ms of each overview (half of it on a busy machine). The
-- function returns at most one row; so does etl.watermark_of.
ALTER FUNCTION etl.latest_run(bigint) ROWS 1;
ALTER FUNCTION etl.watermark_of(bigint) ROWS 1;

---- create above / drop below ----

ALTER FUNCTION etl.watermark_of(bigint) ROWS 1000;
ALTER FUNCTION etl.latest_run(bigint) ROWS 1000;
