-- Prepares a Citus database for `geniai migrate`. Run it once as a superuser in the product's
-- database on the coordinator, after `CREATE EXTENSION citus` and `citus_add_node` for every
-- worker, and before the first migration:
--
--   psql "postgres://postgres@coordinator/geniai" -v ON_ERROR_STOP=1 -f db/citus/prepare.sql
--
-- Citus copies a role to the workers the first time a propagated object depends on it (a schema,
-- a function, a grant). When that happens inside a migration run by geniai_owner, which is not a
-- superuser, Citus tries to re-create the role on the workers with every attribute spelt out
-- (NOSUPERUSER included), and PostgreSQL lets only a superuser do that: the migration fails with
-- "must be superuser to alter superuser roles". Here a superuser creates the switchable roles
-- that do not exist yet (created inside this database, Citus copies them to every worker) and
-- makes every role the product uses a dependency of one throwaway function, so Citus copies the
-- existing ones now and records all of them as distributed. geniai_owner and geniai_authenticator
-- must exist already (with their passwords): create them the way the README says.
-- Idempotent.

DO $$
DECLARE
    r text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'not a Citus database: run CREATE EXTENSION citus and add the workers first';
    END IF;
    FOREACH r IN ARRAY ARRAY['geniai_owner', 'geniai_authenticator'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            RAISE EXCEPTION 'role % does not exist: create the login roles first', r;
        END IF;
    END LOOP;
    FOREACH r IN ARRAY ARRAY['geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION public.geniai_citus_roles() RETURNS void LANGUAGE sql AS 'SELECT';
ALTER FUNCTION public.geniai_citus_roles() OWNER TO geniai_owner;
GRANT EXECUTE ON FUNCTION public.geniai_citus_roles()
    TO geniai_authenticator, geniai_anon, geniai_tenant, geniai_staff, geniai_etl;
DROP FUNCTION public.geniai_citus_roles();
