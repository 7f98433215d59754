package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/geniai/analytics/internal/apperr"
)

// Request bodies are bounded here, in one place, before sessions, the database or any handler
// see them:
//   - forms (application/x-www-form-urlencoded, every form of the product): at most
//     maxFormBytes, parsed here, so no handler parses a body of its own;
//   - multipart/form-data: refused (415) without reading it. No route takes an upload, so no
//     temporary file is ever written (net/http writes large parts to disk and removes them only
//     for the request it served itself, not for the copies middleware passes on). The one
//     exception is a mail client's one-click unsubscribe (RFC 8058 lets it send its
//     "List-Unsubscribe=One-Click" either way): bounded like any other body and never read, the
//     key in the path being the credential;
//   - any other body: at most maxFormBytes, read by no handler;
//   - except a Chatwoot webhook delivery (POST /hooks/chatwoot/…): JSON of at most webhookMaxBody,
//     read by its handler alone (a conversation's payload carries its latest messages).
//
// A body announced as larger is refused before a byte is read; one that turns out larger
// (chunked) is cut at the limit. Both answer 413 and close the connection.
const maxFormBytes = 64 << 10

// statusError is an error with its own HTTP status (413, 415), for the error page.
type statusError struct {
	status int
	error
}

func (e statusError) Unwrap() error { return e.error }

var (
	errBodyTooLarge = statusError{http.StatusRequestEntityTooLarge,
		apperr.New(apperr.Invalid, "err.form.too_large", maxFormBytes>>10)}
	errUploadRefused = statusError{http.StatusUnsupportedMediaType,
		apperr.New(apperr.Invalid, "err.form.upload_refused")}
	errBadForm = apperr.New(apperr.Invalid, "err.form.invalid")
)

func (s *Server) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		refuse := func(err error) {
			w.Header().Set("Connection", "close")
			s.fail(w, r, err)
		}
		switch {
		case media == "multipart/form-data" && !oneClickUnsubscribe(r):
			refuse(errUploadRefused)
			return
		case webhookDelivery(r):
			if r.ContentLength > webhookMaxBody {
				refuse(errBodyTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, webhookMaxBody)
			next.ServeHTTP(w, r)
			return
		case r.ContentLength > maxFormBytes:
			refuse(errBodyTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if media == "application/x-www-form-urlencoded" {
			if err := r.ParseForm(); err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					refuse(errBodyTooLarge)
				} else {
					refuse(fmt.Errorf("%w: %v", errBadForm, err))
				}
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// oneClickUnsubscribe is the POST of a digest's unsubscribe link (unsubscribe.go), which a mail
// client may send as multipart/form-data.
func oneClickUnsubscribe(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/unsubscribe/")
}

// webhookDelivery is a POST to the Chatwoot webhook route (hooks_chatwoot.go).
func webhookDelivery(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, webhookPathPrefix)
}
