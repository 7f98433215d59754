package alert

import (
	"strings"
)

// The errors deliver records itself (the log and the delivery row keep them as written).
const (
	errNotHTTPS  = "o endereço do webhook não é https"
	errNoWebhook = "o cliente não tem mais a configuração de webhook"
	errPrivate   = "endereço privado, local ou de loopback recusado no envio"
)

// Problem is the message key that explains a delivery's last error to the client's admin, in
// plain words (the recorded error stays available as the technical detail): the network's and
// the destination's failures of a webhook, and a mail server's refusal. "" when there was none.
func Problem(channel string, httpStatus *int32, lastError string) string {
	if lastError == "" && httpStatus == nil {
		return ""
	}
	if channel == "email" {
		if lastError == "" {
			return ""
		}
		return "alerts.problem.mail"
	}
	if httpStatus != nil {
		switch c := *httpStatus; {
		case c >= 200 && c < 300:
			return ""
		case c == 408 || c == 425 || c == 429 || c >= 500:
			return "alerts.problem.http_retry"
		default:
			return "alerts.problem.http_refused"
		}
	}
	e := strings.ToLower(lastError)
	switch {
	case lastError == errNotHTTPS:
		return "alerts.problem.not_https"
	case lastError == errNoWebhook:
		return "alerts.problem.no_webhook"
	case lastError == errPrivate:
		return "alerts.problem.private"
	case strings.Contains(e, "no such host") || strings.Contains(e, "server misbehaving"):
		return "alerts.problem.dns"
	case strings.Contains(e, "timeout") || strings.Contains(e, "deadline exceeded"):
		return "alerts.problem.timeout"
	case strings.Contains(e, "connection refused") || strings.Contains(e, "connection reset"):
		return "alerts.problem.refused"
	case strings.Contains(e, "certificate") || strings.Contains(e, "tls"):
		return "alerts.problem.tls"
	default:
		return "alerts.problem.network"
	}
}

// Technical reports whether a recorded error says more than its Problem and the HTTP status do
// (a network or mail server's own words), so the page offers it as the technical detail.
func Technical(lastError string) bool {
	switch {
	case lastError == "", lastError == errNotHTTPS, lastError == errNoWebhook, lastError == errPrivate:
		return false
	case strings.HasPrefix(lastError, "HTTP "):
		return false
	}
	return true
}
