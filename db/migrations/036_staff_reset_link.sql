-- A password reset link sent by someone else: with outgoing mail, super_admin (any account) and a
-- tenant admin (client and admin accounts of their own tenant; the same rule as inviting,
-- app.invitation_caller_may) send a one-hour reset link instead of generating a password to copy
-- by hand. The link is the one "Esqueci minha senha" sends (app.password_resets, single use, ended
-- by any password change) and its e-mail is queued by app.password_reset_mail, now open to the
-- signed-in roles too (it only queues a reset created within ten minutes whose token the caller
-- holds). Another tenant's user, or one the caller may not manage, is no row (the page answers
-- 404). An account that could not sign in with the new password (inactive user, suspended or
-- cancelled tenant) gets no link: the answer names why (refusal), nothing is written.
CREATE FUNCTION app.password_reset_issue(p_user_id bigint, p_token_hash bytea)
RETURNS TABLE (refusal text, email text, full_name text, language text, tenant_name text, primary_color text,
               secondary_color text, logo_url text, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_u   record;
    v_exp timestamptz := pg_catalog.now() + interval '1 hour';
BEGIN
    SELECT u.id, u.tenant_id, u.email, u.full_name, u.language, u.role, u.auth_version,
           coalesce(nullif(s.display_name, ''), t.name) AS tenant_name, s.primary_color, s.secondary_color, s.logo_url,
           app.sign_in_refusal(u.is_active, t.status, t.trial_ends_at) AS refusal
    INTO v_u
    FROM app.users u
    JOIN app.tenants t ON t.id = u.tenant_id
    LEFT JOIN app.tenant_settings s ON s.tenant_id = u.tenant_id
    WHERE u.id = p_user_id;
    IF NOT FOUND OR NOT app.invitation_caller_may(v_u.tenant_id, v_u.role) THEN
        RETURN;
    END IF;
    IF v_u.refusal IS NOT NULL THEN
        RETURN QUERY SELECT v_u.refusal, v_u.email, v_u.full_name, v_u.language, v_u.tenant_name,
                            v_u.primary_color, v_u.secondary_color, v_u.logo_url, NULL::timestamptz;
        RETURN;
    END IF;
    INSERT INTO app.password_resets (tenant_id, user_id, token_hash, auth_version, expires_at, requested_ip)
    VALUES (v_u.tenant_id, v_u.id, p_token_hash, v_u.auth_version, v_exp,
            nullif(pg_catalog.current_setting('geniai.ip', true), '')::inet);
    PERFORM audit.log('password_reset.send', 'user', v_u.id::text, NULL,
                      pg_catalog.jsonb_build_object('email', v_u.email, 'expires_at', v_exp), v_u.tenant_id);
    RETURN QUERY SELECT NULL::text, v_u.email, v_u.full_name, v_u.language, v_u.tenant_name,
                        v_u.primary_color, v_u.secondary_color, v_u.logo_url, v_exp;
END
$$;
COMMENT ON FUNCTION app.password_reset_issue(bigint, bytea) IS 'A reset link sent for someone (super_admin: anyone; tenant admin: client/admin of their tenant): stores a one-hour reset and returns what its e-mail needs; no row when the caller may not manage the user; refusal set (and nothing stored) when the account could not sign in. Audited as password_reset.send.';
REVOKE ALL ON FUNCTION app.password_reset_issue(bigint, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.password_reset_issue(bigint, bytea) TO geniai_staff, geniai_tenant;
GRANT EXECUTE ON FUNCTION app.password_reset_mail(bytea, text, text, text, text) TO geniai_staff, geniai_tenant;

---- create above / drop below ----

REVOKE EXECUTE ON FUNCTION app.password_reset_mail(bytea, text, text, text, text) FROM geniai_staff, geniai_tenant;
DROP FUNCTION app.password_reset_issue(bigint, bytea);
