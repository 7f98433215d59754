package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPSettings is SMTP_URL parsed.
type SMTPSettings struct {
	Host     string
	Port     int
	Username string
	Password string
	// TLS: "starttls" (smtp://, required: the connection fails without it), "tls" (smtps://,
	// implicit TLS) or "none" (?tls=none: plain text, for a catcher on this machine).
	TLS string
}

// ParseSMTPURL reads smtp://user:pass@host:587 (STARTTLS required), smtps://user:pass@host:465
// (implicit TLS) and smtp://host:1025?tls=none (no TLS, meant for a local mail catcher).
func ParseSMTPURL(raw string) (SMTPSettings, error) {
	var s SMTPSettings
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return s, fmt.Errorf("SMTP_URL is not a URL like smtp://user:password@host:587")
	}
	switch u.Scheme {
	case "smtp":
		s.TLS, s.Port = "starttls", 587
	case "smtps":
		s.TLS, s.Port = "tls", 465
	default:
		return s, fmt.Errorf("SMTP_URL scheme %q: use smtp:// (STARTTLS) or smtps:// (TLS)", u.Scheme)
	}
	s.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return s, fmt.Errorf("SMTP_URL port %q is not a port number", p)
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	for k, v := range u.Query() {
		switch {
		case k == "tls" && len(v) == 1 && v[0] == "none" && u.Scheme == "smtp":
			s.TLS = "none"
		case k == "tls" && len(v) == 1 && v[0] == "starttls" && u.Scheme == "smtp":
		default:
			return s, fmt.Errorf("SMTP_URL option %s=%s not understood (only tls=none, on smtp://)", k, strings.Join(v, ","))
		}
	}
	if s.TLS == "none" && s.Password != "" && !isLoopback(s.Host) {
		return s, fmt.Errorf("SMTP_URL: a password over a connection without TLS is refused unless the server is on this machine")
	}
	return s, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Outgoing is a claimed message on its way to SMTP.
type Outgoing struct {
	From      string
	MessageID string
	To        string
	ToName    string
	Subject   string
	Text      string
	HTML      string
	Headers   map[string]string
	Files     []File
}

// Sender hands messages to an SMTP server.
type Sender interface {
	// Send delivers the messages over one connection; the result has one error (nil: accepted)
	// per message, or err when no connection could be made. permanent(err) tells a refusal that
	// retrying cannot fix.
	Send(ctx context.Context, msgs []Outgoing) (results []error, err error)
}

// SMTP is the Sender for a real server (github.com/wneessen/go-mail).
type SMTP struct {
	settings SMTPSettings
	// RootCAs, when set, verifies the server's certificate against these instead of the system
	// pool (tests with a catcher's self-signed certificate).
	TLSConfig *tls.Config
	Timeout   time.Duration
}

// NewSMTP builds the sender for SMTP_URL.
func NewSMTP(rawURL string) (*SMTP, error) {
	s, err := ParseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	return &SMTP{settings: s, Timeout: 30 * time.Second}, nil
}

func (s *SMTP) client() (*gomail.Client, error) {
	st := s.settings
	opts := []gomail.Option{gomail.WithPort(st.Port), gomail.WithTimeout(s.Timeout)}
	switch st.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	tc := s.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: st.Host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, gomail.WithTLSConfig(tc))
	if st.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if st.TLS == "none" {
			auth = gomail.SMTPAuthPlainNoEnc // loopback only (ParseSMTPURL)
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(st.Username), gomail.WithPassword(st.Password))
	}
	return gomail.NewClient(st.Host, opts...)
}

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, msgs []Outgoing) ([]error, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	built := make([]*gomail.Msg, len(msgs))
	results := make([]error, len(msgs))
	for i, m := range msgs {
		built[i], results[i] = Build(m)
	}
	if err := c.DialWithContext(ctx); err != nil {
		return nil, err
	}
	defer func() { _ = c.Close() }()
	for i, m := range built {
		if results[i] != nil {
			continue
		}
		results[i] = c.Send(m)
	}
	return results, nil
}

// Permanent reports whether an SMTP error is a refusal that retrying will not fix (a 5xx answer).
func Permanent(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return !se.IsTemp() && se.ErrorCode() >= 500
	}
	return false
}

// Build turns an outgoing message into a MIME message: text and HTML alternatives, inline images
// in a related part, attachments, the fixed Message-ID and the extra headers.
func Build(m Outgoing) (*gomail.Msg, error) {
	g := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := g.From(m.From); err != nil {
		return nil, fmt.Errorf("from %q: %w", m.From, err)
	}
	if m.ToName != "" {
		if err := g.AddToFormat(m.ToName, m.To); err != nil {
			return nil, fmt.Errorf("to %q: %w", m.To, err)
		}
	} else if err := g.To(m.To); err != nil {
		return nil, fmt.Errorf("to %q: %w", m.To, err)
	}
	g.Subject(m.Subject)
	g.SetMessageIDWithValue(strings.Trim(m.MessageID, "<>"))
	g.SetDate()
	g.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	for k, v := range m.Headers {
		g.SetGenHeader(gomail.Header(k), v)
	}
	g.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		g.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	for _, f := range m.Files {
		opts := []gomail.FileOption{gomail.WithFileContentType(gomail.ContentType(f.ContentType))}
		if f.ContentID != "" {
			opts = append(opts, gomail.WithFileContentID(f.ContentID))
			if err := g.EmbedReader(f.Name, bytes.NewReader(f.Data), opts...); err != nil {
				return nil, err
			}
			continue
		}
		if err := g.AttachReader(f.Name, bytes.NewReader(f.Data), opts...); err != nil {
			return nil, err
		}
	}
	return g, nil
}
