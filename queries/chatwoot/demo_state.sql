-- name: DemoExists :one
-- DemoExists reports whether the database already has the Chatwoot tables.
SELECT (to_regclass('public.conversations') IS NOT NULL)::boolean AS present;
