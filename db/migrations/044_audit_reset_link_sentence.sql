-- A reset link sent for someone (password_reset.send, by staff or a client's admin) is an event
-- of its own in the audit trail, "sent a password reset link to ...", instead of the generic
-- "other" sentence.
CREATE OR REPLACE FUNCTION audit.event_kind(p_action text, p_old jsonb, p_new jsonb, p_actor_user_id bigint, p_entity_id text)
    RETURNS text
    LANGUAGE sql
    IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog
    AS $$
    SELECT CASE
        WHEN p_action = 'tenants.insert' THEN 'tenant.created'
        WHEN p_action = 'tenants.delete' THEN 'tenant.deleted'
        WHEN p_action = 'tenants.update' THEN
            CASE
                WHEN (p_old ->> 'status') IS DISTINCT FROM (p_new ->> 'status') THEN
                    CASE p_new ->> 'status'
                        WHEN 'suspended' THEN 'tenant.suspended'
                        WHEN 'cancelled' THEN 'tenant.cancelled'
                        WHEN 'active' THEN 'tenant.reactivated'
                        ELSE 'tenant.updated'
                    END
                WHEN (p_old - 'timezone' - 'updated_at') = (p_new - 'timezone' - 'updated_at') THEN 'tenant.timezone'
                ELSE 'tenant.updated'
            END
        WHEN p_action = 'tenant_settings.insert' THEN 'settings.created'
        WHEN p_action = 'tenant_settings.update' THEN
            CASE
                WHEN (p_old -> 'lead_labels', p_old -> 'lead_regex', p_old -> 'lead_any_message', p_old -> 'visit_labels',
                      p_old -> 'visit_regex', p_old -> 'converted_labels', p_old -> 'converted_regex', p_old -> 'lead_exclusion_labels')
                     IS DISTINCT FROM
                     (p_new -> 'lead_labels', p_new -> 'lead_regex', p_new -> 'lead_any_message', p_new -> 'visit_labels',
                      p_new -> 'visit_regex', p_new -> 'converted_labels', p_new -> 'converted_regex', p_new -> 'lead_exclusion_labels')
                    THEN 'settings.funnel'
                WHEN (p_old -> 'display_name', p_old -> 'logo_url', p_old -> 'primary_color', p_old -> 'secondary_color', p_old -> 'default_period_days')
                     IS DISTINCT FROM
                     (p_new -> 'display_name', p_new -> 'logo_url', p_new -> 'primary_color', p_new -> 'secondary_color', p_new -> 'default_period_days')
                    THEN 'settings.branding'
                ELSE 'settings.updated'
            END
        WHEN p_action = 'tenant_settings.delete' THEN 'settings.deleted'
        WHEN p_action = 'tenant_inboxes.insert' THEN 'inbox.mapped'
        WHEN p_action = 'tenant_inboxes.delete' THEN 'inbox.unmapped'
        WHEN p_action = 'tenant_inboxes.update' THEN 'inbox.updated'
        WHEN p_action = 'users.insert' THEN 'user.created'
        WHEN p_action = 'users.delete' THEN 'user.deleted'
        WHEN p_action = 'users.update' THEN
            CASE
                WHEN (p_old ->> 'is_active') = 'true' AND (p_new ->> 'is_active') = 'false' THEN 'user.deactivated'
                WHEN (p_old ->> 'is_active') = 'false' AND (p_new ->> 'is_active') = 'true' THEN 'user.reactivated'
                WHEN (p_old ->> 'role') IS DISTINCT FROM (p_new ->> 'role') THEN 'user.role_changed'
                WHEN audit.event_changes(p_old, p_new) = '[]'::jsonb
                     AND (p_old -> 'auth_version') IS DISTINCT FROM (p_new -> 'auth_version') THEN
                    CASE WHEN p_actor_user_id::text = p_entity_id THEN 'user.password_changed' ELSE 'user.password_reset' END
                WHEN (p_old - 'timezone' - 'updated_at') = (p_new - 'timezone' - 'updated_at') THEN 'user.timezone'
                ELSE 'user.updated'
            END
        WHEN p_action = 'user.unlock' THEN 'user.unlocked'
        WHEN p_action = 'password_reset.send' THEN 'user.reset_link_sent'
        WHEN p_action = 'login.success' THEN 'access.login'
        WHEN p_action = 'login.failure' THEN 'access.login_failed'
        WHEN p_action = 'login.lockout' THEN 'access.locked'
        WHEN p_action = 'login.attack_suspected' THEN 'access.attack'
        WHEN p_action = 'logout' THEN 'access.logout'
        WHEN p_action = 'password.change' THEN 'access.password_changed'
        WHEN p_action = 'password.change_failed' THEN 'access.password_change_failed'
        WHEN p_action = 'session.hijack_user_agent' THEN 'access.session_user_agent'
        WHEN p_action = 'session.ip_changed' THEN 'access.session_ip'
        WHEN p_action = 'tenant.view_as' THEN 'view.as_client'
        ELSE 'other'
    END
$$;
COMMENT ON FUNCTION audit.event_kind(text, jsonb, jsonb, bigint, text) IS 'What an audit event means to a person (tenant.suspended, user.password_reset, user.reset_link_sent, access.login, view.as_client ...): a key of the panel''s sentences, "other" for an action it has no sentence for.';

---- create above / drop below ----

CREATE OR REPLACE FUNCTION audit.event_kind(p_action text, p_old jsonb, p_new jsonb, p_actor_user_id bigint, p_entity_id text)
    RETURNS text
    LANGUAGE sql
    IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog
    AS $$
    SELECT CASE
        WHEN p_action = 'tenants.insert' THEN 'tenant.created'
        WHEN p_action = 'tenants.delete' THEN 'tenant.deleted'
        WHEN p_action = 'tenants.update' THEN
            CASE
                WHEN (p_old ->> 'status') IS DISTINCT FROM (p_new ->> 'status') THEN
                    CASE p_new ->> 'status'
                        WHEN 'suspended' THEN 'tenant.suspended'
                        WHEN 'cancelled' THEN 'tenant.cancelled'
                        WHEN 'active' THEN 'tenant.reactivated'
                        ELSE 'tenant.updated'
                    END
                WHEN (p_old - 'timezone' - 'updated_at') = (p_new - 'timezone' - 'updated_at') THEN 'tenant.timezone'
                ELSE 'tenant.updated'
            END
        WHEN p_action = 'tenant_settings.insert' THEN 'settings.created'
        WHEN p_action = 'tenant_settings.update' THEN
            CASE
                WHEN (p_old -> 'lead_labels', p_old -> 'lead_regex', p_old -> 'lead_any_message', p_old -> 'visit_labels',
                      p_old -> 'visit_regex', p_old -> 'converted_labels', p_old -> 'converted_regex', p_old -> 'lead_exclusion_labels')
                     IS DISTINCT FROM
                     (p_new -> 'lead_labels', p_new -> 'lead_regex', p_new -> 'lead_any_message', p_new -> 'visit_labels',
                      p_new -> 'visit_regex', p_new -> 'converted_labels', p_new -> 'converted_regex', p_new -> 'lead_exclusion_labels')
                    THEN 'settings.funnel'
                WHEN (p_old -> 'display_name', p_old -> 'logo_url', p_old -> 'primary_color', p_old -> 'secondary_color', p_old -> 'default_period_days')
                     IS DISTINCT FROM
                     (p_new -> 'display_name', p_new -> 'logo_url', p_new -> 'primary_color', p_new -> 'secondary_color', p_new -> 'default_period_days')
                    THEN 'settings.branding'
                ELSE 'settings.updated'
            END
        WHEN p_action = 'tenant_settings.delete' THEN 'settings.deleted'
        WHEN p_action = 'tenant_inboxes.insert' THEN 'inbox.mapped'
        WHEN p_action = 'tenant_inboxes.delete' THEN 'inbox.unmapped'
        WHEN p_action = 'tenant_inboxes.update' THEN 'inbox.updated'
        WHEN p_action = 'users.insert' THEN 'user.created'
        WHEN p_action = 'users.delete' THEN 'user.deleted'
        WHEN p_action = 'users.update' THEN
            CASE
                WHEN (p_old ->> 'is_active') = 'true' AND (p_new ->> 'is_active') = 'false' THEN 'user.deactivated'
                WHEN (p_old ->> 'is_active') = 'false' AND (p_new ->> 'is_active') = 'true' THEN 'user.reactivated'
                WHEN (p_old ->> 'role') IS DISTINCT FROM (p_new ->> 'role') THEN 'user.role_changed'
                WHEN audit.event_changes(p_old, p_new) = '[]'::jsonb
                     AND (p_old -> 'auth_version') IS DISTINCT FROM (p_new -> 'auth_version') THEN
                    CASE WHEN p_actor_user_id::text = p_entity_id THEN 'user.password_changed' ELSE 'user.password_reset' END
                WHEN (p_old - 'timezone' - 'updated_at') = (p_new - 'timezone' - 'updated_at') THEN 'user.timezone'
                ELSE 'user.updated'
            END
        WHEN p_action = 'user.unlock' THEN 'user.unlocked'
        WHEN p_action = 'login.success' THEN 'access.login'
        WHEN p_action = 'login.failure' THEN 'access.login_failed'
        WHEN p_action = 'login.lockout' THEN 'access.locked'
        WHEN p_action = 'login.attack_suspected' THEN 'access.attack'
        WHEN p_action = 'logout' THEN 'access.logout'
        WHEN p_action = 'password.change' THEN 'access.password_changed'
        WHEN p_action = 'password.change_failed' THEN 'access.password_change_failed'
        WHEN p_action = 'session.hijack_user_agent' THEN 'access.session_user_agent'
        WHEN p_action = 'session.ip_changed' THEN 'access.session_ip'
        WHEN p_action = 'tenant.view_as' THEN 'view.as_client'
        ELSE 'other'
    END
$$;
COMMENT ON FUNCTION audit.event_kind(text, jsonb, jsonb, bigint, text) IS 'What an audit event means to a person (tenant.suspended, user.password_reset, access.login, view.as_client ...): a key of the panel''s sentences, "other" for an action it has no sentence for.';
