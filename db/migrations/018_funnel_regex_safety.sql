-- Funnel rules that cannot hang a sync.
--
-- PostgreSQL's regular expressions run as automata in time linear in the text, except for
-- back-references (\1 ... \9), which need backtracking: `(a*)(a*)(a*)(a*)(a*)\5\4\3\2\1c` takes
-- seconds on 300 characters and grows exponentially. Lookaround constraints ((?=, (?!, (?<=, (?<!)
-- re-run a sub-match at every position. Rules using either are refused (a constraint, so no path
-- around the settings pages can store one; rules stored before stay until edited, and the ETL
-- statement timeout bounds what they can cost). Each contact message is matched on its first
-- 2,000 characters only (etl.funnel_text_cap), so a rule's work per message is bounded.

-- app.regex_refusal names the first construct of re that can make a match backtrack ('\1',
-- '(?=', '(?<!' ...), or NULL when there is none (NULL, literal ***= and (?q) rules included).
CREATE FUNCTION app.regex_refusal(re text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    body text := re;
    i    integer := 1;
    n    integer;
    c    text;
BEGIN
    IF body IS NULL OR pg_catalog.left(body, 4) = '***=' THEN
        RETURN NULL; -- a literal string
    END IF;
    IF pg_catalog.left(body, 4) = '***:' THEN
        body := pg_catalog.substr(body, 5);
    END IF;
    IF pg_catalog.substring(body, '^\(\?([a-z]+)\)') LIKE '%q%' THEN
        RETURN NULL; -- embedded option q: the rest is literal
    END IF;
    n := pg_catalog.length(body);
    WHILE i <= n LOOP
        c := pg_catalog.substr(body, i, 1);
        IF c = '\' THEN
            IF pg_catalog.substr(body, i + 1, 1) BETWEEN '1' AND '9' THEN
                RETURN pg_catalog.substr(body, i, 2);
            END IF;
            i := i + 2; -- an escape: the next character is never special here
            CONTINUE;
        END IF;
        IF c = '(' AND pg_catalog.substr(body, i + 1, 1) = '?' THEN
            IF pg_catalog.substr(body, i + 2, 1) IN ('=', '!') THEN
                RETURN pg_catalog.substr(body, i, 3);
            END IF;
            IF pg_catalog.substr(body, i + 2, 2) IN ('<=', '<!') THEN
                RETURN pg_catalog.substr(body, i, 4);
            END IF;
        END IF;
        i := i + 1;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION app.regex_refusal(text) IS 'The first back-reference (\1-\9) or lookaround ((?=, (?!, (?<=, (?<!) of a regular expression, which would make matching backtrack; NULL when it has none.';
GRANT EXECUTE ON FUNCTION app.regex_refusal(text) TO geniai_tenant, geniai_staff, geniai_etl;

ALTER TABLE app.tenant_settings
    ADD CONSTRAINT tenant_settings_lead_regex_safe CHECK (app.regex_refusal(lead_regex) IS NULL) NOT VALID;
ALTER TABLE app.tenant_settings
    ADD CONSTRAINT tenant_settings_visit_regex_safe CHECK (app.regex_refusal(visit_regex) IS NULL) NOT VALID;
ALTER TABLE app.tenant_settings
    ADD CONSTRAINT tenant_settings_converted_regex_safe CHECK (app.regex_refusal(converted_regex) IS NULL) NOT VALID;

-- etl.funnel_text_cap: characters of each contact message a funnel rule is matched against.
CREATE FUNCTION etl.funnel_text_cap() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 2000 $$;
COMMENT ON FUNCTION etl.funnel_text_cap() IS 'Funnel regular expressions see the first 2,000 characters of each contact message.';
GRANT EXECUTE ON FUNCTION etl.funnel_text_cap() TO geniai_etl;

CREATE OR REPLACE FUNCTION etl.funnel_stage(s app.tenant_settings, labels text[], contact_texts text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN labels && s.lead_exclusion_labels THEN 0 ELSE greatest(etl.funnel_stage_labels(s, labels, contact_messages), CASE
        WHEN s.converted_regex IS NOT NULL
             AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE left(t, etl.funnel_text_cap()) ~* s.converted_regex)
            THEN 3
        WHEN s.visit_regex IS NOT NULL
             AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE left(t, etl.funnel_text_cap()) ~* s.visit_regex)
            THEN 2
        WHEN s.lead_regex IS NOT NULL
             AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE left(t, etl.funnel_text_cap()) ~* s.lead_regex)
            THEN 1
        ELSE 0
    END) END::smallint
$$;
COMMENT ON FUNCTION etl.funnel_stage(app.tenant_settings, text[], text[], integer) IS
    'Funnel stage (0 none, 1 lead, 2 visit, 3 converted) of a conversation from its labels and contact messages (each on its first etl.funnel_text_cap() characters) under the tenant''s rules; 0 with a lead exclusion label.';

---- create above / drop below ----

CREATE OR REPLACE FUNCTION etl.funnel_stage(s app.tenant_settings, labels text[], contact_texts text[], contact_messages integer)
    RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN labels && s.lead_exclusion_labels THEN 0 ELSE greatest(etl.funnel_stage_labels(s, labels, contact_messages), CASE
        WHEN s.converted_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.converted_regex)
            THEN 3
        WHEN s.visit_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.visit_regex)
            THEN 2
        WHEN s.lead_regex IS NOT NULL AND EXISTS (SELECT FROM unnest(contact_texts) t WHERE t ~* s.lead_regex)
            THEN 1
        ELSE 0
    END) END::smallint
$$;
COMMENT ON FUNCTION etl.funnel_stage(app.tenant_settings, text[], text[], integer) IS
    'Funnel stage (0 none, 1 lead, 2 visit, 3 converted) of a conversation from its labels and contact messages under the tenant''s rules.';
DROP FUNCTION etl.funnel_text_cap();
ALTER TABLE app.tenant_settings DROP CONSTRAINT tenant_settings_converted_regex_safe;
ALTER TABLE app.tenant_settings DROP CONSTRAINT tenant_settings_visit_regex_safe;
ALTER TABLE app.tenant_settings DROP CONSTRAINT tenant_settings_lead_regex_safe;
DROP FUNCTION app.regex_refusal(text);
