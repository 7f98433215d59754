-- The client's logo is shown in the header of every tenant page and in e-mails, loaded by the
-- reader's browser straight from its address (docs/adr/023-client-logo-by-address.md). The address
-- must be: https (never mixed content or a downgrade); a host name with a top-level domain (no IP
-- literal, no localhost: nobody's browser is sent to an internal address); a path ending in a
-- raster image's extension (PNG, JPEG, GIF, WebP, AVIF; never SVG); path characters a
-- Content-Security-Policy source may carry, since the page's img-src names exactly this address;
-- an optional query; 500 characters at most. Stored addresses that break the rule (http, SVG,
-- an IP) are cleared: the header then shows the client's name, as with no logo.
ALTER TABLE app.tenant_settings NO FORCE ROW LEVEL SECURITY;
UPDATE app.tenant_settings
SET logo_url = NULL
WHERE logo_url IS NOT NULL
  AND NOT (logo_url ~* '^https://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9](:[0-9]{1,5})?(/[a-z0-9._~%+=@-]+)*/[a-z0-9._~%+=@-]*\.(png|jpe?g|gif|webp|avif)(\?[^\s"''<>#]*)?$'
           AND length(logo_url) <= 500);
ALTER TABLE app.tenant_settings FORCE ROW LEVEL SECURITY;

ALTER TABLE app.tenant_settings DROP CONSTRAINT tenant_settings_logo_url_format;
ALTER TABLE app.tenant_settings ADD CONSTRAINT tenant_settings_logo_url_https_image CHECK (
    logo_url ~* '^https://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9](:[0-9]{1,5})?(/[a-z0-9._~%+=@-]+)*/[a-z0-9._~%+=@-]*\.(png|jpe?g|gif|webp|avif)(\?[^\s"''<>#]*)?$'
    AND length(logo_url) <= 500) NOT VALID;
ALTER TABLE app.tenant_settings VALIDATE CONSTRAINT tenant_settings_logo_url_https_image;

---- create above / drop below ----

ALTER TABLE app.tenant_settings DROP CONSTRAINT tenant_settings_logo_url_https_image;
ALTER TABLE app.tenant_settings ADD CONSTRAINT tenant_settings_logo_url_format
    CHECK (logo_url ~ '^https?://[^\s"''<>]+$' AND length(logo_url) <= 500);
