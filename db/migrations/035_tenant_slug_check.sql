-- The onboarding wizard checks a client's identifier (slug) as the operator types.
--
-- app.tenant_slug_refusal says why a slug cannot be used, or NULL when it can: 'format' when the
-- CHECK constraint tenants_slug_format refuses it, 'taken' when a tenant the caller sees already
-- has it (staff see every tenant). The format rule keeps its one home: the function evaluates
-- the constraint's own expression, read from the catalogue, so a later change of the
-- constraint changes the live check with it. Read-only; staff only.

CREATE FUNCTION app.tenant_slug_refusal(p_slug text) RETURNS text
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    rule text;
    ok boolean;
BEGIN
    IF p_slug IS NULL THEN
        RETURN 'format';
    END IF;
    SELECT pg_get_expr(c.conbin, c.conrelid) INTO STRICT rule
    FROM pg_constraint c
    WHERE c.conrelid = 'app.tenants'::regclass AND c.conname = 'tenants_slug_format';
    EXECUTE format('SELECT %s FROM (SELECT $1::text AS slug) AS tenants', rule) INTO ok USING p_slug;
    IF ok IS NOT TRUE THEN
        RETURN 'format';
    END IF;
    IF EXISTS (SELECT FROM app.tenants t WHERE t.slug = p_slug) THEN
        RETURN 'taken';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION app.tenant_slug_refusal(text) IS 'Why a slug cannot be a new client''s identifier: format (the CHECK constraint tenants_slug_format, evaluated from its catalogued expression), taken (a tenant the caller sees has it), or NULL when it is free. For the onboarding wizard''s live check; the INSERT still enforces both.';
REVOKE ALL ON FUNCTION app.tenant_slug_refusal(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.tenant_slug_refusal(text) TO geniai_staff;

---- create above / drop below ----

DROP FUNCTION IF EXISTS app.tenant_slug_refusal(text);
