-- Readiness: lets /readyz see the applied migration version without any table privilege.

CREATE FUNCTION app.schema_version() RETURNS integer
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT version FROM public.schema_version $$;
COMMENT ON FUNCTION app.schema_version() IS 'Applied tern migration version, for readiness checks.';
REVOKE ALL ON FUNCTION app.schema_version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.schema_version() TO geniai_anon, geniai_staff;

---- create above / drop below ----

DROP FUNCTION app.schema_version();
