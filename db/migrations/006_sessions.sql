-- Browser sessions for scs/pgxstore. Outside tenant RLS on purpose: tokens are secrets, the
-- table holds no tenant rows of its own, and pgxstore reads it through the pool directly.
-- The authenticator's only privileges are on this table.

CREATE TABLE public.sessions (
    token  text        PRIMARY KEY,
    data   bytea       NOT NULL,
    expiry timestamptz NOT NULL
);
COMMENT ON TABLE public.sessions IS 'scs/pgxstore session store: token, gob-encoded data, expiry. Expired rows are purged by pgxstore.';
CREATE INDEX sessions_expiry_idx ON public.sessions (expiry);

GRANT USAGE ON SCHEMA public TO geniai_authenticator;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.sessions TO geniai_authenticator;

---- create above / drop below ----

DROP TABLE public.sessions;
