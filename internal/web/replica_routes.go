package web

import (
	"net/http"
	"strings"
)

// readsFromReplica reports whether the request's data reads may use the read replica
// (DATABASE_READ_URL): the GET pages, exports and API calls that show a tenant's analytics. The
// session's principal check runs before (in authenticate) and always on the primary; settings,
// admin pages and every write stay on the primary, so whoever just changed something sees it.
func readsFromReplica(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.Pattern
	return strings.Contains(p, "/dashboard") || strings.Contains(p, "/conversations")
}
