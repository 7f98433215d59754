-- name: UserCreate :one
-- UserCreate adds a user; email must already be normalised to lowercase.
INSERT INTO app.users (tenant_id, email, password_hash, full_name, role)
VALUES (@tenant_id, @email, @password_hash, @full_name, @role)
RETURNING id, tenant_id, email, full_name, role, is_active, auth_version, created_at;

-- name: UserGetByEmail :one
-- UserGetByEmail finds a user visible to the current context by (lowercase) email.
SELECT id, tenant_id, email, full_name, role, is_active, last_login_at, locked_until, auth_version, created_at
FROM app.users
WHERE email = @email;

-- name: UserSetPassword :one
-- UserSetPassword replaces a user's password hash and bumps auth_version, which ends every
-- session that carries the old version.
UPDATE app.users
SET password_hash = @password_hash,
    auth_version = auth_version + 1,
    failed_attempts = 0,
    locked_until = NULL,
    lockout_count = 0
WHERE id = @id
RETURNING id, auth_version;

-- name: UserListByTenant :many
-- UserListByTenant lists a tenant's users.
SELECT id, tenant_id, email, full_name, role, is_active, last_login_at, locked_until, created_at
FROM app.users
WHERE tenant_id = @tenant_id
ORDER BY email;
