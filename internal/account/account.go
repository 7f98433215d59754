// Package account is what a person does with their account by e-mail: accepting an invitation
// (setting their first password) and resetting a forgotten password. Links carry a random token;
// the database keeps only its SHA-256, and SQL functions decide validity (single use, expiry,
// invalidated by any later password change). Every link is built from PUBLIC_URL.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/pg"
)

// Service runs the flows. Mail is the outgoing-mail configuration; invitations and resets need
// it enabled.
type Service struct {
	DB         *pg.DB
	Mail       mail.Config
	BcryptCost int
}

// NewToken is a random link token (256 bits, URL-safe) and the hash the database keeps.
func NewToken() (token string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken is what the database stores for a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

var tokenShape = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// ValidToken reports whether s looks like a token (before asking the database).
func ValidToken(s string) bool { return tokenShape.MatchString(s) }

func (s *Service) link(path string) string {
	base, _ := mail.PublicBase(s.Mail.PublicURL)
	return base + path
}

// Lang normalises a language choice to pt-BR or en.
func Lang(l string) string {
	if strings.HasPrefix(strings.ToLower(l), "en") {
		return "en"
	}
	return "pt-BR"
}

// Invitation is what creating a user by invitation takes.
type Invitation struct {
	TenantID int64
	Email    string
	FullName string
	Role     string
	Language string
	// InvitedBy names who invites, for the message ("Ana convidou você").
	InvitedBy string
}

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// Invite records an invitation and queues its e-mail, in one transaction run as p. The answer is
// the same whether or not the address has an account in another tenant (the e-mail is then held,
// which only staff see). It is a conflict only when the address already has an account in the
// same tenant.
func (s *Service) Invite(ctx context.Context, p pg.Principal, in Invitation) (int64, error) {
	if !s.Mail.Enabled() {
		return 0, apperr.New(apperr.Invalid, "err.invitation.mail_disabled")
	}
	in.Email = auth.NormalizeEmail(in.Email)
	in.FullName = strings.TrimSpace(in.FullName)
	in.Language = Lang(in.Language)
	token, hash := NewToken()
	var id int64
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		b, err := tx.MailBrandOf(ctx, in.TenantID)
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.tenant.not_found")
		} else if err != nil {
			return err
		}
		msg, err := invitationMessage(in, brandOf(b), s.link("/invite/"+token))
		if err != nil {
			return err
		}
		id, err = tx.InvitationCreate(ctx, dbsqlc.InvitationCreateParams{
			TenantID: in.TenantID, Email: in.Email, FullName: in.FullName, Role: in.Role, Language: in.Language,
			TokenHash: hash, Subject: msg.Subject, TextBody: msg.Text, HtmlBody: msg.HTML,
			MessageID: mail.NewMessageID(s.Mail.From),
		})
		return err
	})
	if isUniqueEmail(err) {
		return 0, apperr.New(apperr.Conflict, "err.invitation.user_exists")
	}
	return id, err
}

// Resend gives a pending invitation a new link (24 hours) and queues it again.
func (s *Service) Resend(ctx context.Context, p pg.Principal, tenantID, id int64, invitedBy string) error {
	if !s.Mail.Enabled() {
		return apperr.New(apperr.Invalid, "err.invitation.mail_disabled")
	}
	token, hash := NewToken()
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		inv, err := tx.InvitationGet(ctx, dbsqlc.InvitationGetParams{TenantID: tenantID, ID: id})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.invitation.not_found")
		} else if err != nil {
			return err
		}
		b, err := tx.MailBrandOf(ctx, tenantID)
		if err != nil {
			return err
		}
		msg, err := invitationMessage(Invitation{TenantID: tenantID, Email: inv.Email, FullName: inv.FullName, Role: inv.Role,
			Language: inv.Language, InvitedBy: invitedBy}, brandOf(b), s.link("/invite/"+token))
		if err != nil {
			return err
		}
		ok, err := tx.InvitationResend(ctx, dbsqlc.InvitationResendParams{TenantID: tenantID, ID: id, TokenHash: hash,
			Subject: msg.Subject, TextBody: msg.Text, HtmlBody: msg.HTML, MessageID: mail.NewMessageID(s.Mail.From)})
		if err == nil && !ok {
			err = apperr.New(apperr.NotFound, "err.invitation.not_found_or_used")
		}
		return err
	})
}

// Revoke withdraws a pending invitation.
func (s *Service) Revoke(ctx context.Context, p pg.Principal, tenantID, id int64) error {
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		ok, err := tx.InvitationRevoke(ctx, dbsqlc.InvitationRevokeParams{TenantID: tenantID, ID: id})
		if err == nil && !ok {
			err = apperr.New(apperr.NotFound, "err.invitation.not_found_or_used")
		}
		return err
	})
}

// LinkState is what a link page shows.
type LinkState struct {
	Valid    bool
	Expired  bool // invitations: expired rather than used
	Email    string
	FullName string
	Tenant   string
	Language string
}

// InvitationState looks a link's invitation up (anonymous).
func (s *Service) InvitationState(ctx context.Context, p pg.Principal, token string) (LinkState, error) {
	var st LinkState
	if !ValidToken(token) {
		return st, nil
	}
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		r, err := tx.InvitationLookup(ctx, HashToken(token))
		if pg.IsNoRows(err) {
			return nil
		} else if err != nil {
			return err
		}
		st = LinkState{Valid: r.State == "valid", Expired: r.State == "expired", Email: r.Email, FullName: r.FullName,
			Tenant: r.TenantName, Language: r.Language}
		return nil
	})
	return st, err
}

// ErrLinkInvalid means a link that is unknown, used, expired or superseded.
var ErrLinkInvalid = apperr.New(apperr.Invalid, "err.link.invalid")

// AcceptInvitation creates the account of a valid invitation with the chosen password.
func (s *Service) AcceptInvitation(ctx context.Context, p pg.Principal, token, password, confirm string) (string, error) {
	if !ValidToken(token) {
		return "", ErrLinkInvalid
	}
	st, err := s.InvitationState(ctx, p, token)
	if err != nil {
		return "", err
	}
	if !st.Valid {
		return "", ErrLinkInvalid
	}
	hash, err := s.newPasswordHash(password, confirm, st.Email)
	if err != nil {
		return "", err
	}
	var email string
	err = s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		r, err := tx.InvitationAccept(ctx, dbsqlc.InvitationAcceptParams{TokenHash: HashToken(token), PasswordHash: hash})
		email = r.Email
		return err
	})
	switch {
	case isUniqueEmail(err):
		return "", apperr.New(apperr.Conflict, "err.invitation.account_exists")
	case isBadLink(err):
		return "", ErrLinkInvalid
	}
	return email, err
}

func (s *Service) newPasswordHash(password, confirm, email string) (string, error) {
	if password != confirm {
		return "", apperr.New(apperr.Invalid, "password.mismatch")
	}
	if err := auth.ValidatePassword(password, email); err != nil {
		return "", err
	}
	return auth.Hash(password, s.BcryptCost)
}

// RequestReset handles one "Esqueci minha senha" request: the answer is the same whether or not
// the address has an account (nil), except when the client IP is throttled (TooMany).
func (s *Service) RequestReset(ctx context.Context, p pg.Principal, email, ip string) error {
	if !s.Mail.Enabled() {
		return apperr.New(apperr.Invalid, "err.reset.mail_disabled")
	}
	email = auth.NormalizeEmail(email)
	if !emailRE.MatchString(email) || len(email) > 254 {
		return apperr.New(apperr.Invalid, "forgot.invalid_email")
	}
	token, hash := NewToken()
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		r, err := tx.PasswordResetRequest(ctx, dbsqlc.PasswordResetRequestParams{Email: email, IP: ip, TokenHash: hash})
		if err != nil {
			return err
		}
		switch r.Outcome {
		case "ip_throttled":
			return apperr.New(apperr.TooMany, "err.reset.throttled", (r.RetrySeconds+59)/60)
		case "ok":
		default:
			// Render anyway, so an unknown address costs about the same time as a known one.
			_, _ = resetMessage("pt-BR", "", mail.Brand{Name: "GeniAI"}, s.link("/reset/"+token))
			return nil
		}
		msg, err := resetMessage(Lang(r.Language), r.FullName, mail.Brand{Name: r.TenantName, Primary: r.PrimaryColor,
			Secondary: r.SecondaryColor, LogoURL: r.LogoURL}, s.link("/reset/"+token))
		if err != nil {
			return err
		}
		_, err = tx.PasswordResetMail(ctx, dbsqlc.PasswordResetMailParams{TokenHash: hash, Subject: msg.Subject,
			TextBody: msg.Text, HtmlBody: msg.HTML, MessageID: mail.NewMessageID(s.Mail.From)})
		return err
	})
}

// ResetState looks a reset link up (anonymous).
func (s *Service) ResetState(ctx context.Context, p pg.Principal, token string) (LinkState, error) {
	var st LinkState
	if !ValidToken(token) {
		return st, nil
	}
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		r, err := tx.PasswordResetLookup(ctx, HashToken(token))
		if pg.IsNoRows(err) {
			return nil
		} else if err != nil {
			return err
		}
		st = LinkState{Valid: r.Valid, Email: r.Email, Language: r.Language}
		return nil
	})
	return st, err
}

// CompleteReset sets the new password through a valid reset link; every session of the user and
// every other open link end. Returns the account's e-mail.
func (s *Service) CompleteReset(ctx context.Context, p pg.Principal, token, password, confirm string) (string, error) {
	st, err := s.ResetState(ctx, p, token)
	if err != nil {
		return "", err
	}
	if !st.Valid {
		return "", ErrLinkInvalid
	}
	hash, err := s.newPasswordHash(password, confirm, st.Email)
	if err != nil {
		return "", err
	}
	var email string
	err = s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		r, err := tx.PasswordResetComplete(ctx, dbsqlc.PasswordResetCompleteParams{TokenHash: HashToken(token), PasswordHash: hash})
		email = r.Email
		return err
	})
	if isBadLink(err) {
		return "", ErrLinkInvalid
	}
	return email, err
}

func isUniqueEmail(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" && pe.ConstraintName == "users_email_unique"
	}
	return false
}

func isBadLink(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "28000"
}

func brandOf(b dbsqlc.MailBrandOfRow) mail.Brand {
	return mail.Brand{Name: b.Name, Primary: b.PrimaryColor, Secondary: b.SecondaryColor, LogoURL: b.LogoURL}
}

// NormalEmail is an address as stored (trimmed, lower-case).
func NormalEmail(s string) string { return auth.NormalizeEmail(s) }

// ResetSent is what sending a reset link for someone did: the address it went to and until when
// the link works.
type ResetSent struct {
	Email     string
	ExpiresAt time.Time
}

// SendReset sends user id a one-hour reset link on behalf of by (staff, or the tenant admin of
// the user's tenant), through the mail queue, in the user's stored language; audited as
// password_reset.send. A user the caller may not manage is NotFound; an account that could not
// sign in with a new password gets no link (Invalid, saying why).
func (s *Service) SendReset(ctx context.Context, p pg.Principal, id int64, by string) (ResetSent, error) {
	var out ResetSent
	if !s.Mail.Enabled() {
		return out, apperr.New(apperr.Invalid, "err.reset.mail_disabled")
	}
	token, hash := NewToken()
	err := s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		r, err := tx.PasswordResetIssue(ctx, dbsqlc.PasswordResetIssueParams{UserID: id, TokenHash: hash})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.user.not_found")
		} else if err != nil {
			return err
		}
		if r.Refusal != "" {
			return apperr.New(apperr.Invalid, "err.reset.cannot_sign_in", r.Email)
		}
		msg, err := resetByMessage(Lang(r.Language), r.FullName, by, mail.Brand{Name: r.TenantName, Primary: r.PrimaryColor,
			Secondary: r.SecondaryColor, LogoURL: r.LogoURL}, s.link("/reset/"+token))
		if err != nil {
			return err
		}
		queued, err := tx.PasswordResetMail(ctx, dbsqlc.PasswordResetMailParams{TokenHash: hash, Subject: msg.Subject,
			TextBody: msg.Text, HtmlBody: msg.HTML, MessageID: mail.NewMessageID(s.Mail.From)})
		if err == nil && !queued {
			err = errors.New("password reset: the link just stored was not queued")
		}
		out = ResetSent{Email: r.Email, ExpiresAt: r.ExpiresAt}
		return err
	})
	return out, err
}

// Invited is an invitation just queued: its id, address and expiry.
type Invited struct {
	ID        int64
	Email     string
	ExpiresAt time.Time
}

// InviteIn records an invitation and queues its e-mail inside tx, a transaction the caller runs
// (onboarding creates the tenant and invites its first admin in one). The address must not have
// an account anywhere (the caller, staff, sees every tenant): Conflict naming the tenant that
// holds it.
func (s *Service) InviteIn(ctx context.Context, tx pg.Tx, in Invitation) (Invited, error) {
	if !s.Mail.Enabled() {
		return Invited{}, apperr.New(apperr.Invalid, "err.invitation.mail_disabled")
	}
	in.Email = auth.NormalizeEmail(in.Email)
	in.FullName = strings.TrimSpace(in.FullName)
	in.Language = Lang(in.Language)
	if u, err := tx.UserHoldingEmail(ctx, in.Email); err == nil {
		return Invited{}, apperr.New(apperr.Conflict, "err.invitation.held_by", u.TenantName)
	} else if !pg.IsNoRows(err) {
		return Invited{}, err
	}
	b, err := tx.MailBrandOf(ctx, in.TenantID)
	if err != nil {
		return Invited{}, err
	}
	token, hash := NewToken()
	msg, err := invitationMessage(in, brandOf(b), s.link("/invite/"+token))
	if err != nil {
		return Invited{}, err
	}
	id, err := tx.InvitationCreate(ctx, dbsqlc.InvitationCreateParams{
		TenantID: in.TenantID, Email: in.Email, FullName: in.FullName, Role: in.Role, Language: in.Language,
		TokenHash: hash, Subject: msg.Subject, TextBody: msg.Text, HtmlBody: msg.HTML,
		MessageID: mail.NewMessageID(s.Mail.From),
	})
	if err != nil {
		return Invited{}, err
	}
	inv, err := tx.InvitationGet(ctx, dbsqlc.InvitationGetParams{TenantID: in.TenantID, ID: id})
	if err != nil {
		return Invited{}, err
	}
	return Invited{ID: id, Email: in.Email, ExpiresAt: inv.ExpiresAt}, nil
}
