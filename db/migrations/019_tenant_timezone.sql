-- Tenant admins may change their own tenant's timezone. geniai_tenant has no UPDATE on
-- app.tenants (a tenant must not rename itself, change its plan or lift a suspension), so the
-- change goes through one function that checks the caller: the admin of that very tenant, or a
-- super_admin. The tenants audit trigger records the change with the caller as actor.

-- The function runs as the owner, which reads tenants under a policy of its own (003) and now
-- may update them too; no application role gains anything.
CREATE POLICY tenants_owner_update ON app.tenants FOR UPDATE TO geniai_owner USING (true) WITH CHECK (true);

CREATE FUNCTION app.tenant_set_timezone(p_tenant_id bigint, p_timezone text)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_id bigint;
BEGIN
    IF NOT ((app.current_app_role() = 'admin' AND app.current_tenant_id() = p_tenant_id)
            OR app.current_app_role() = 'super_admin') THEN
        RAISE EXCEPTION 'only the tenant''s admin or a super_admin may change its timezone'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE app.tenants t SET timezone = p_timezone
    WHERE t.id = p_tenant_id AND NOT t.is_platform
    RETURNING t.id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION app.tenant_set_timezone(bigint, text) IS 'Changes a client tenant''s timezone: its own admin or a super_admin only (insufficient_privilege otherwise); NULL when there is no such client tenant. Audited by the tenants trigger.';
REVOKE ALL ON FUNCTION app.tenant_set_timezone(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.tenant_set_timezone(bigint, text) TO geniai_tenant, geniai_staff;

---- create above / drop below ----

DROP FUNCTION app.tenant_set_timezone(bigint, text);
DROP POLICY tenants_owner_update ON app.tenants;
