package alert

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/apperr"
)

// TestSignAndVerify: a receiver accepts a delivery's own signature and refuses a changed body, a
// changed event id, another key and an old timestamp (a replay).
func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"event_id":"e1","type":"conversation.sla_missed"}`)
	h := http.Header{}
	h.Set(HeaderTimestamp, "1800000000")
	h.Set(HeaderEventID, "e1")
	h.Set(HeaderSignature, Sign("k", now.Unix(), "e1", body))
	if err := Verify("k", h, body, now, 5*time.Minute); err != nil {
		t.Fatalf("own signature refused: %v", err)
	}
	if !strings.HasPrefix(h.Get(HeaderSignature), "sha256=") || len(h.Get(HeaderSignature)) != 7+64 {
		t.Errorf("signature %q", h.Get(HeaderSignature))
	}
	for name, mutate := range map[string]func(http.Header, *[]byte){
		"body":     func(_ http.Header, b *[]byte) { *b = append([]byte{}, (*b)[:len(*b)-1]...) },
		"event id": func(h http.Header, _ *[]byte) { h.Set(HeaderEventID, "e2") },
		"key":      func(h http.Header, b *[]byte) { h.Set(HeaderSignature, Sign("other", now.Unix(), "e1", *b)) },
		"replay": func(h http.Header, b *[]byte) {
			old := now.Add(-10 * time.Minute).Unix()
			h.Set(HeaderTimestamp, "1799999400")
			h.Set(HeaderSignature, Sign("k", old, "e1", *b))
		},
	} {
		h2 := h.Clone()
		b := append([]byte{}, body...)
		mutate(h2, &b)
		if err := Verify("k", h2, b, now, 5*time.Minute); err == nil {
			t.Errorf("%s changed: still verified", name)
		}
	}
}

// TestCheckURL: only https URLs whose host is, or resolves only to, public addresses are saved.
func TestCheckURL(t *testing.T) {
	t.Parallel()
	g := Guard{Resolver: func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "hooks.example.com":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		case "sneaky.example.com": // one public, one private address
			return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.1.2.3")}, nil
		case "metadata.example.com":
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
		}
		return nil, errors.New("no such host")
	}}
	ok := []string{"https://hooks.example.com/geniai", "https://93.184.216.34/x", "https://[2606:4700::1111]/hook"}
	bad := []string{"http://hooks.example.com/x", "ftp://hooks.example.com", "hooks.example.com/x", "https://", "https://user:pw@hooks.example.com/",
		"https://hooks.example.com/#frag", "https://localhost/x", "https://app.localhost/x", "https://127.0.0.1/x", "https://127.1.2.3:8443/x",
		"https://10.0.0.8/x", "https://172.16.5.4/x", "https://192.168.0.10/x", "https://169.254.169.254/latest/meta-data",
		"https://[::1]/x", "https://[fe80::1]/x", "https://[fd00::1]/x", "https://[::ffff:127.0.0.1]/x", "https://0.0.0.0/x",
		"https://100.64.0.1/x", "https://sneaky.example.com/x", "https://metadata.example.com/x", "https://nowhere.example.com/x",
		"https://hooks.example.com/" + strings.Repeat("a", 500)}
	for _, u := range ok {
		if err := g.CheckURL(context.Background(), u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range bad {
		err := g.CheckURL(context.Background(), u)
		if err == nil {
			t.Errorf("%s accepted", u)
		} else if apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%s: %v, want an Invalid error", u, err)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("after attempt %d: %v, want %v", i+1, got, w)
		}
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{45 * time.Second: "45 s", 12 * time.Minute: "12 min", 100 * time.Minute: "1 h 40",
		2 * time.Hour: "2 h", 51 * time.Hour: "2 d 3 h", -time.Minute: "0 s"} {
		if got := Duration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
