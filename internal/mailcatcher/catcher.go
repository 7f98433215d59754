// Package mailcatcher is a real SMTP server that keeps what it receives in memory and shows it on
// a small web page. `make run` starts it as a process (`geniai mailcatcher`) so the demo's
// invitations, reset links and digests can be opened in a browser; tests start it in-process and
// assert on the MIME they received. It delivers nothing anywhere.
package mailcatcher

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message as it arrived.
type Received struct {
	N    int // 1-based arrival number
	At   time.Time
	From string
	To   []string
	Raw  []byte
}

// Parsed parses the message's MIME.
func (r Received) Parsed() (*Parsed, error) { return Parse(r.Raw) }

// Options configure a Catcher.
type Options struct {
	// Addr is the SMTP listen address; "127.0.0.1:0" when empty.
	Addr string
	// TLS, when set, offers STARTTLS with it.
	TLS *tls.Config
	// Username and Password, when set, are required (AUTH PLAIN).
	Username, Password string
	// Reject, when set, is asked for every recipient; a non-nil error refuses it (tests of
	// permanent and temporary failures).
	Reject func(to string) error
	// MaxMessages kept in memory (oldest dropped); 500 when 0.
	MaxMessages int
}

// Catcher is the SMTP server and its mailbox.
type Catcher struct {
	opts   Options
	srv    *smtp.Server
	ln     net.Listener
	mu     sync.Mutex
	msgs   []Received
	next   int
	notify chan struct{}
	done   chan struct{}
}

// Start listens and serves SMTP until Close.
func Start(o Options) (*Catcher, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = 500
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	c := &Catcher{opts: o, ln: ln, notify: make(chan struct{}), done: make(chan struct{})}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }))
	s.Domain = "mailcatcher.local"
	s.TLSConfig = o.TLS
	s.AllowInsecureAuth = o.TLS == nil
	s.MaxMessageBytes = 50 << 20
	s.MaxRecipients = 50
	s.ReadTimeout = time.Minute
	s.WriteTimeout = time.Minute
	c.srv = s
	go func() {
		defer close(c.done)
		_ = s.Serve(ln)
	}()
	return c, nil
}

// Addr is the SMTP address actually listened on (host:port).
func (c *Catcher) Addr() string { return c.ln.Addr().String() }

// Close stops the server.
func (c *Catcher) Close() error {
	err := c.srv.Close()
	<-c.done
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Messages is a copy of what arrived, oldest first.
func (c *Catcher) Messages() []Received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Received(nil), c.msgs...)
}

// Get is message number n (1-based arrival number).
func (c *Catcher) Get(n int) (Received, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.N == n {
			return m, true
		}
	}
	return Received{}, false
}

// Clear forgets every message.
func (c *Catcher) Clear() {
	c.mu.Lock()
	c.msgs = nil
	c.mu.Unlock()
}

// Wait returns once at least n messages have arrived, or when ctx ends.
func (c *Catcher) Wait(ctx context.Context, n int) ([]Received, error) {
	for {
		c.mu.Lock()
		msgs, ch := append([]Received(nil), c.msgs...), c.notify
		c.mu.Unlock()
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-ctx.Done():
			return msgs, ctx.Err()
		case <-ch:
		}
	}
}

func (c *Catcher) add(from string, to []string, raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	c.msgs = append(c.msgs, Received{N: c.next, At: time.Now(), From: from, To: to, Raw: raw})
	if len(c.msgs) > c.opts.MaxMessages {
		c.msgs = c.msgs[len(c.msgs)-c.opts.MaxMessages:]
	}
	close(c.notify)
	c.notify = make(chan struct{})
}

type session struct {
	c      *Catcher
	authed bool
	from   string
	to     []string
}

func (s *session) needAuth() bool { return s.c.opts.Username != "" && !s.authed }

func (s *session) AuthMechanisms() []string {
	if s.c.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.c.opts.Username || pass != s.c.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.needAuth() {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.needAuth() {
		return smtp.ErrAuthRequired
	}
	if s.c.opts.Reject != nil {
		if err := s.c.opts.Reject(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	s.c.add(s.from, append([]string(nil), s.to...), b.Bytes())
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
