-- Alert e-mails are written in each recipient's stored language. The recipients are addresses
-- of the tenant's alert settings, not necessarily users; the alert evaluator (the loader's role,
-- which reads no user) asks which of them are users of the tenant in context and in which
-- language, and nothing else: an address that is no user of the tenant gets Portuguese.
CREATE FUNCTION app.alert_recipient_languages(p_emails text[])
RETURNS TABLE (email text, language text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.email, u.language
    FROM app.users u
    WHERE u.tenant_id = app.current_tenant_id()
      AND u.email IN (SELECT pg_catalog.lower(pg_catalog.btrim(e)) FROM pg_catalog.unnest(p_emails) AS e)
$$;
COMMENT ON FUNCTION app.alert_recipient_languages(text[]) IS 'Alert e-mails: the stored language of those addresses that are users of the tenant in context (lower-case e-mail); others are not returned.';
REVOKE ALL ON FUNCTION app.alert_recipient_languages(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.alert_recipient_languages(text[]) TO geniai_etl;

---- create above / drop below ----

DROP FUNCTION app.alert_recipient_languages(text[]);
