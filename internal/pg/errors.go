package pg

import (
	"context"
	"errors"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/locale"
)

// ConstraintKeyPrefix prefixes a constraint's name to make its message key: a violated
// constraint reaches the person as the locale text err.constraint.<name>, one message per
// constraint name. TestConstraintMessages ties the keys to pg_constraint.
const ConstraintKeyPrefix = "err.constraint."

// MapError converts driver and database errors into apperr errors; other errors pass through
// wrapped as Internal. It is idempotent: an apperr passes unchanged.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.Wrap(err, apperr.NotFound, "err.db.not_found")
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return apperr.Wrap(err, apperr.Unavailable, "err.db.timeout")
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return mapPgError(err, pe)
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) {
		return apperr.Wrap(err, apperr.Unavailable, "err.db.unavailable")
	}
	return apperr.Wrap(err, apperr.Internal, apperr.KeyInternal)
}

func mapPgError(err error, pe *pgconn.PgError) error {
	if key := ConstraintKeyPrefix + pe.ConstraintName; pe.ConstraintName != "" && locale.Has(locale.PT, key) {
		code := apperr.Invalid
		switch pe.Code {
		case "23505":
			code = apperr.Conflict
		}
		return apperr.Wrap(err, code, key)
	}
	switch pe.Code {
	case "23505": // unique_violation
		return apperr.Wrap(err, apperr.Conflict, "err.db.duplicate")
	case "23503": // foreign_key_violation
		return apperr.Wrap(err, apperr.Invalid, "err.db.related_missing")
	case "23502", "23514", "22001", "22003", "22007", "22008", "22023", "22P02", "2201B", "22021", "22P05": // not null, check, too long, out of range, datetime, invalid value, bad regex, bad encoding
		return apperr.Wrap(err, apperr.Invalid, "err.db.invalid_value")
	case "42501": // insufficient_privilege, including row-level security violations
		return apperr.Wrap(err, apperr.Forbidden, "err.db.forbidden")
	case "57014": // query_canceled: statement_timeout
		return apperr.Wrap(err, apperr.Unavailable, "err.db.query_canceled")
	case "57P01", "57P02", "57P03", "53300", "08000", "08003", "08006": // shutdown, too many connections, connection failures
		return apperr.Wrap(err, apperr.Unavailable, "err.db.unavailable")
	case "55P03", "40001", "40P01": // lock_not_available, serialization, deadlock
		return apperr.Wrap(err, apperr.Conflict, "err.db.busy")
	}
	return apperr.Wrap(err, apperr.Internal, apperr.KeyInternal)
}
