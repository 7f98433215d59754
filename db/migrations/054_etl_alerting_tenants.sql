-- After a pass settled its unchanged tenants together (ADR 031), `geniai serve` still judged
-- every tenant's alerts in a transaction of its own, although most tenants have none: one
-- statement now keeps, of the settled tenants, those etl.fire_alerts can fire for, and only those
-- are judged. Each tenant's settings are read as that tenant (etl.use_tenant).
CREATE FUNCTION etl.alerting_tenants(p_tenant_ids bigint[])
    RETURNS SETOF bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog
    AS $$
DECLARE
    v_own bigint := app.current_tenant_id();
    t bigint;
BEGIN
    FOREACH t IN ARRAY coalesce(p_tenant_ids, '{}') LOOP
        PERFORM etl.use_tenant(t);
        -- etl.fire_alerts returns at once unless this holds.
        IF EXISTS (SELECT 1 FROM app.alert_settings a
                   WHERE a.tenant_id = t AND (a.sla_enabled OR a.window_enabled)
                     AND (cardinality(a.email_to) > 0 OR a.webhook_url IS NOT NULL)) THEN
            RETURN NEXT t;
        END IF;
    END LOOP;
    PERFORM etl.use_tenant(v_own);
END
$$;

COMMENT ON FUNCTION etl.alerting_tenants(bigint[]) IS 'Of the given tenants, those whose alerts are on with somewhere to send them: the only ones etl.fire_alerts can fire for. Each tenant''s settings are read as that tenant.';
REVOKE ALL ON FUNCTION etl.alerting_tenants(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl.alerting_tenants(bigint[]) TO geniai_etl;

---- create above / drop below ----

DROP FUNCTION etl.alerting_tenants(bigint[]);
