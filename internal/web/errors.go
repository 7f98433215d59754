package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/pg"
)

// handlerFunc is a page handler: it writes a response or returns an error for the wrapper.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

var errCrossOrigin = apperr.New(apperr.Forbidden, "err.request.cross_origin")

// retryAfter reports how long a throttled client should wait, when the error says so.
func retryAfter(err error) time.Duration {
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		return te.RetryAfter
	}
	return 0
}

// retrySeconds is a Retry-After value: whole seconds, rounded up.
func retrySeconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// handle is the one error wrapper: every handler error becomes a page with the right status.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if readsFromReplica(r) {
			r = r.WithContext(pg.WithReplica(r.Context()))
		}
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// statusOf maps an error code to an HTTP status.
func statusOf(err error) int {
	var se statusError
	if errors.As(err, &se) {
		return se.status
	}
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return http.StatusUnprocessableEntity
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.TooMany:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ErrorPage is the data of the error page.
type ErrorPage struct {
	Page
	Status  int
	Message string
}

// fail renders err as a page. Internal errors are logged with the request id, shown without
// detail.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	info := infoFrom(r.Context())
	if status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", info.id), slog.String("error", err.Error()))
	}
	if d := retryAfter(err); d > 0 {
		w.Header().Set("Retry-After", retrySeconds(d))
	}
	// Bad input in a GET (filters, dates, pagination) is a plain 400; 422 is for forms.
	if status == http.StatusUnprocessableEntity && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		status = http.StatusBadRequest
	}
	p := s.newPage(r, "error.title")
	msg := p.Err(err)
	if status == http.StatusNotFound {
		// One message for every 404: another tenant's id must read like a missing one.
		err = apperr.Wrap(err, apperr.NotFound, "err.page.not_found")
		msg = p.Err(err)
	}
	if isAPI(r) {
		s.failJSON(w, r, status, err, msg)
		return
	}
	if rerr := s.render(w, r, status, "error", ErrorPage{Page: p, Status: status, Message: msg}); rerr != nil {
		// The template itself failed: a plain fallback, still without detail.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg + "\nid: " + info.id + "\n"))
	}
}

// notFound is the page for any unknown path of a signed-in user.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	return apperr.New(apperr.NotFound, "err.page.not_found")
}
