-- A session that ends because its account may no longer sign in says why.
--
-- The per-request session check (queries/sessions.sql, SessionCheck) now also returns
-- app.sign_in_refusal's reason (inactive, suspended, cancelled, trial_ended, not_active), so the
-- next page a user of a suspended client or a deactivated user sees explains it instead of a
-- bare login page. The check runs as the request's role, so tenant users may now call the rule
-- (a pure function of its arguments, that reads nothing) as staff already could.

GRANT EXECUTE ON FUNCTION app.sign_in_refusal(boolean, text, timestamp with time zone) TO geniai_tenant;

---- create above / drop below ----

REVOKE EXECUTE ON FUNCTION app.sign_in_refusal(boolean, text, timestamp with time zone) FROM geniai_tenant;
