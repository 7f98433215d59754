-- The client's logo address: https, a host name, a raster image, characters a CSP source carries.
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.

BEGIN;
\ir fixtures.psql
SELECT plan(11);

INSERT INTO app.tenant_settings (tenant_id, display_name) VALUES (pg_temp.fx('a'), 'A') ON CONFLICT DO NOTHING;
CREATE FUNCTION pg_temp.set_logo(p_logo text) RETURNS void LANGUAGE sql AS
    $$ UPDATE app.tenant_settings SET logo_url = p_logo WHERE tenant_id = pg_temp.fx('a') $$;

SELECT lives_ok($$SELECT pg_temp.set_logo('https://cdn.academia.com.br/marca/logo.png')$$, 'an https PNG on a host name');
SELECT lives_ok($$SELECT pg_temp.set_logo('https://Academia.COM/Logo.JPEG?v=2&x=1')$$, 'any case, a JPEG, a query');
SELECT lives_ok($$SELECT pg_temp.set_logo('https://img.x.io:8443/a/b%20c/logo.webp')$$, 'a port, nested folders, an escaped space, WebP');
SELECT lives_ok($$SELECT pg_temp.set_logo(NULL)$$, 'no logo');
SELECT throws_ok($$SELECT pg_temp.set_logo('http://cdn.academia.com.br/logo.png')$$, '23514',
                 'new row for relation "tenant_settings" violates check constraint "tenant_settings_logo_url_https_image"',
                 'http is refused');
SELECT throws_ok($$SELECT pg_temp.set_logo('https://cdn.academia.com.br/logo.svg')$$, '23514', NULL, 'SVG is refused');
SELECT throws_ok($$SELECT pg_temp.set_logo('https://cdn.academia.com.br/logo')$$, '23514', NULL, 'an address without an image type is refused');
SELECT throws_ok($$SELECT pg_temp.set_logo('https://10.0.0.1/logo.png')$$, '23514', NULL, 'an IP address is refused');
SELECT throws_ok($$SELECT pg_temp.set_logo('https://localhost/logo.png')$$, '23514', NULL, 'localhost is refused');
SELECT throws_ok($$SELECT pg_temp.set_logo('https://x.com/a;b.png')$$, '23514', NULL, 'a character that would break the CSP is refused');
SELECT throws_ok($$SELECT pg_temp.set_logo('https://x.com/' || repeat('a', 490) || '.png')$$, '23514', NULL, 'over 500 characters is refused');

SELECT * FROM finish();
ROLLBACK;
