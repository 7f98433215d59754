package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// KeyBadCredentials is the one answer to every wrong-credential case: unknown e-mail, wrong
// password, locked account and throttled IP, so none of them tells an attacker anything.
const KeyBadCredentials = "err.login.bad_credentials"

// Input limits: bound the work a single request can cause.
const (
	MaxEmailBytes         = 254
	MaxLoginPasswordBytes = 1024
)

// Attempt is one sign-in attempt.
type Attempt struct {
	Email     string
	Password  string
	IP        string // "" when unknown
	UserAgent string
}

// Account is who signed in.
type Account struct {
	UserID      int64
	TenantID    int64
	Role        string
	AuthVersion int32
	TenantName  string
	TenantSlug  string
}

// ThrottledError is a refused attempt that may be retried after RetryAfter. Its message is the
// generic one.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string { return "too_many: " + KeyBadCredentials }

// Unwrap lets apperr see a TooMany error with the generic message.
func (e *ThrottledError) Unwrap() error {
	return apperr.New(apperr.TooMany, "err.login.bad_credentials")
}

// Authenticator signs people in against the login SQL functions.
type Authenticator struct {
	DB    *pg.DB
	Cost  int // bcrypt cost of the dummy hash; raised to MinBcryptCost
	dummy string
	once  sync.Once
}

var errBad = apperr.New(apperr.Unauthorized, "err.login.bad_credentials")

// dummyHash is a hash of a random password at the configured cost, compared against when the
// e-mail is unknown so the response takes as long as for a real account.
func (a *Authenticator) dummyHash() string {
	a.once.Do(func() {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		cost := max(a.Cost, MinBcryptCost)
		h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(b)), cost)
		if err != nil {
			panic(err) // only fails for an invalid cost, which max() rules out
		}
		a.dummy = string(h)
	})
	return a.dummy
}

// Warm precomputes the dummy hash (call at startup so the first login is not slower).
func (a *Authenticator) Warm() { a.dummyHash() }

// Login checks an attempt. Wrong credentials, lockout and throttling all return the generic
// message (Unauthorized, or a *ThrottledError for lockout and throttle), and an unknown e-mail
// locks exactly like a real one; a correct password for an account that may not sign in returns
// Forbidden with a specific, polite message.
func (a *Authenticator) Login(ctx context.Context, at Attempt) (Account, error) {
	at.Email = NormalizeEmail(at.Email)
	if at.Email == "" || at.Password == "" {
		return Account{}, apperr.New(apperr.Invalid, "err.login.missing")
	}
	if len(at.Email) > MaxEmailBytes || len(at.Password) > MaxLoginPasswordBytes {
		a.compare(a.dummyHash(), at.Password)
		return Account{}, errBad
	}
	anon := pg.Anon(at.IP, at.UserAgent)
	// Every time decision below (IP throttle, lockout, trial end) is made with the database clock:
	// no clock of the caller reaches SQL.
	var (
		row     dbsqlc.LoginLookupRow
		found   bool
		blocked int32
	)
	err := a.DB.InReadTx(ctx, anon, func(tx pg.Tx) error {
		var err error
		blocked, err = tx.LoginIPBlocked(ctx, at.IP)
		if err != nil || blocked > 0 {
			return err
		}
		row, err = tx.LoginLookup(ctx, dbsqlc.LoginLookupParams{Email: at.Email, IP: at.IP})
		if pg.IsNoRows(err) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return Account{}, err
	}
	if blocked > 0 {
		return Account{}, throttled(blocked)
	}
	// The same work for every e-mail: a bcrypt compare (against a dummy hash when unknown), then,
	// unless the password is right for an unlocked account, one login_fail, which counts and locks
	// unknown e-mails exactly like real ones.
	hash := a.dummyHash()
	if found {
		hash = row.PasswordHash
	}
	ok := a.compare(hash, at.Password) && found
	if !ok || row.LockedSeconds > 0 {
		var res dbsqlc.LoginFailRow
		err := a.DB.InTx(ctx, anon, func(tx pg.Tx) error {
			var err error
			res, err = tx.LoginFail(ctx, dbsqlc.LoginFailParams{Email: at.Email, IP: at.IP, UserAgent: at.UserAgent})
			return err
		})
		if err != nil {
			return Account{}, err
		}
		if res.RetrySeconds > 0 {
			return Account{}, throttled(res.RetrySeconds)
		}
		return Account{}, errBad
	}
	if err := Refusal(row.Refusal); err != nil {
		return Account{}, err
	}
	var retry int32
	err = a.DB.InTx(ctx, anon, func(tx pg.Tx) error {
		var err error
		retry, err = tx.LoginSucceed(ctx, dbsqlc.LoginSucceedParams{UserID: row.UserID, IP: at.IP, UserAgent: at.UserAgent})
		return err
	})
	if err != nil {
		return Account{}, err
	}
	if retry > 0 { // locked between the lookup and now
		return Account{}, throttled(retry)
	}
	return Account{
		UserID:      row.UserID,
		TenantID:    row.TenantID,
		Role:        row.Role,
		AuthVersion: row.AuthVersion,
		TenantName:  row.TenantName,
		TenantSlug:  row.TenantSlug,
	}, nil
}

// throttled is the refusal of a locked e-mail or a throttled IP, to retry after seconds.
func throttled(seconds int32) *ThrottledError {
	return &ThrottledError{RetryAfter: time.Duration(seconds) * time.Second}
}

func (a *Authenticator) compare(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// Refusal explains, after a correct password, why an account may not sign in; nil when it may.
// The decision is app.sign_in_refusal's (the same rule app.principal_check applies on every
// request); this only turns its reason into a message.
func Refusal(reason string) error {
	switch reason {
	case "":
		return nil
	case "inactive":
		return apperr.New(apperr.Forbidden, "err.login.refused.inactive")
	case "suspended":
		return apperr.New(apperr.Forbidden, "err.login.refused.suspended")
	case "cancelled":
		return apperr.New(apperr.Forbidden, "err.login.refused.cancelled")
	case "trial_ended":
		return apperr.New(apperr.Forbidden, "err.login.refused.trial_ended")
	}
	return apperr.New(apperr.Forbidden, "err.login.refused.not_active")
}
