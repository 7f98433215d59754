package alert

import "testing"

// TestProblem: every kind of recorded failure has its plain-words key, and only the network's
// and mail server's own messages are offered as technical detail.
func TestProblem(t *testing.T) {
	code := func(c int32) *int32 { return &c }
	for _, c := range []struct {
		channel   string
		http      *int32
		err, want string
		technical bool
	}{
		{"webhook", nil, "", "", false},
		{"webhook", code(200), "", "", false},
		{"webhook", code(503), "HTTP 503", "alerts.problem.http_retry", false},
		{"webhook", code(429), "HTTP 429", "alerts.problem.http_retry", false},
		{"webhook", code(404), "HTTP 404 (recusado pelo destino; não será repetido)", "alerts.problem.http_refused", false},
		{"webhook", nil, errNotHTTPS, "alerts.problem.not_https", false},
		{"webhook", nil, errNoWebhook, "alerts.problem.no_webhook", false},
		{"webhook", nil, errPrivate, "alerts.problem.private", false},
		{"webhook", nil, `Post "https://x.invalid/": dial tcp: lookup x.invalid: no such host`, "alerts.problem.dns", true},
		{"webhook", nil, `Post "https://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, "alerts.problem.timeout", true},
		{"webhook", nil, `Post "https://x/": dial tcp 1.2.3.4:443: connect: connection refused`, "alerts.problem.refused", true},
		{"webhook", nil, `Post "https://x/": tls: failed to verify certificate: x509: certificate signed by unknown authority`, "alerts.problem.tls", true},
		{"webhook", nil, `Post "https://x/": EOF`, "alerts.problem.network", true},
		{"email", nil, "554 5.7.1 relay denied", "alerts.problem.mail", true},
		{"email", nil, "", "", false},
	} {
		if got := Problem(c.channel, c.http, c.err); got != c.want {
			t.Errorf("Problem(%s, %v, %q) = %q, want %q", c.channel, c.http, c.err, got, c.want)
		}
		if got := Technical(c.err); got != c.technical {
			t.Errorf("Technical(%q) = %v, want %v", c.err, got, c.technical)
		}
	}
}
