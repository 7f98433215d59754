package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/geniai/analytics/internal/apperr"
)

// Headers of a webhook delivery (docs/alerts.md). The signature is HMAC-SHA256, keyed with the
// tenant's webhook secret, over "<timestamp>.<event id>.<body>": a receiver recomputes it, refuses
// a timestamp too far from its clock, and remembers event ids to refuse replays.
const (
	HeaderEventID   = "X-GeniAI-Event-Id"
	HeaderEvent     = "X-GeniAI-Event"
	HeaderTimestamp = "X-GeniAI-Timestamp"
	HeaderSignature = "X-GeniAI-Signature"
)

// Sign is the value of the X-GeniAI-Signature header: "sha256=" and the hex HMAC-SHA256 of
// timestamp (Unix seconds), event id and body joined by dots, keyed with secret.
func Sign(secret string, timestamp int64, eventID string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write([]byte(eventID))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery's headers and body the way a receiver should: a valid signature, and
// a timestamp within tolerance of now. It is what the tests' receiver runs, and documents the
// receiving side.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return errors.New("alert: missing or malformed timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("alert: timestamp outside the tolerance (a replay?)")
	}
	want := Sign(secret, ts, h.Get(HeaderEventID), body)
	if !hmac.Equal([]byte(want), []byte(h.Get(HeaderSignature))) {
		return errors.New("alert: bad signature")
	}
	return nil
}

// publicAddr reports whether ip may receive a webhook: not loopback, private (RFC 1918, unique
// local), link-local, unspecified, multicast, carrier-grade NAT, documentation or benchmark
// ranges, nor an IPv4 address of those mapped into IPv6.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"240.0.0.0/4",     // reserved, and broadcast
		"64:ff9b::/96",    // NAT64 (reaches IPv4 ranges above)
		"64:ff9b:1::/48",
		"2001:db8::/32", // documentation
		"2002::/16",     // 6to4 (embeds any IPv4)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Guard decides which addresses webhooks may reach. The zero Guard allows public addresses only;
// tests allow their loopback receiver with AllowAddr.
type Guard struct {
	AllowAddr func(netip.Addr) bool // extra addresses to allow (tests only)
	Resolver  func(ctx context.Context, host string) ([]netip.Addr, error)
}

func (g Guard) allowed(ip netip.Addr) bool {
	return publicAddr(ip) || (g.AllowAddr != nil && g.AllowAddr(ip.Unmap()))
}

func (g Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if g.Resolver != nil {
		return g.Resolver(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// CheckURL validates a webhook URL as saved: https, a host (no user, no fragment), at most 500
// characters, and a host that is, or resolves only to, public addresses. Errors are Invalid with a
// message in Portuguese.
func (g Guard) CheckURL(ctx context.Context, raw string) error {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return apperr.New(apperr.Invalid, "err.webhook.url_invalid")
	case u.Scheme != "https":
		return apperr.New(apperr.Invalid, "err.webhook.https_required")
	case u.User != nil || u.Fragment != "" || len(raw) > 500:
		return apperr.New(apperr.Invalid, "err.webhook.url_parts")
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return apperr.New(apperr.Invalid, "err.webhook.localhost")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !g.allowed(ip) {
			return apperr.New(apperr.Invalid, "err.webhook.private_address", ip)
		}
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := g.resolve(rctx, host)
	if err != nil || len(ips) == 0 {
		return apperr.New(apperr.Invalid, "err.webhook.unresolved", host)
	}
	for _, ip := range ips {
		if !g.allowed(ip) {
			return apperr.New(apperr.Invalid, "err.webhook.private_resolved", host, ip)
		}
	}
	return nil
}

// errBlocked is returned by the dialer for an address the guard refuses.
var errBlocked = errors.New("webhook address is private, loopback or link-local")

// Client is the HTTP client deliveries use: every connection's address is checked after DNS
// resolution, right before connecting (so a name that resolves differently at send time than at
// save time is refused too); no proxy from the environment; no redirects followed; 10 s per
// attempt.
func (g Guard) Client(tlsConfig func(*http.Transport)) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", errBlocked, address)
		}
		if !g.allowed(ap.Addr()) {
			return fmt.Errorf("%w: %s", errBlocked, ap.Addr())
		}
		return nil
	}}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
	}
	if tlsConfig != nil {
		tlsConfig(tr)
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
