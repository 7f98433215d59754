package web

import (
	"net/http"

	"github.com/geniai/analytics/internal/pg"
)

// routes is every route and its middleware chain, in one place.
//
//	every response:  recover → request log → security headers → body limits
//	pages:           + sessions → CSRF (cross-origin protection) → authenticate
//	signed-in pages: + require a user (anonymous → /login), + require a role (else 404)
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Public, no session.
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /favicon.ico", faviconICO)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /readyz", s.handle(s.readyz))
	// Chatwoot webhooks: no session, no cross-origin check; the secret in the path authenticates.
	if s.webhookSecret != nil {
		mux.HandleFunc("POST /hooks/chatwoot/{secret}", s.chatwootHook) // webhookPathPrefix
	}
	if s.cfg.MetricsToken != "" { // never public without a token (or on METRICS_ADDR, see serve)
		mux.Handle("GET /metrics", s.metrics.Handler(s.cfg.MetricsToken, s.log))
	}

	// Pages: sessions → CSRF → authenticate → the error wrapper.
	page := func(h handlerFunc) http.Handler {
		return s.sessions.LoadAndSave(s.lang(s.csrf.Handler(s.authenticate(s.handle(h)))))
	}
	user := func(h handlerFunc) http.Handler { return page(s.requireUser(h)) }
	roles := func(h handlerFunc, allowed ...string) http.Handler {
		return page(s.requireUser(s.requireRole(h, allowed...)))
	}
	tenantRoles := []string{pg.AppClient, pg.AppAdmin}
	staffRoles := pg.StaffRoles

	mux.Handle("GET /login", page(s.loginForm))
	mux.Handle("POST /login", page(s.loginSubmit))
	mux.Handle("POST /logout", user(s.logout))
	// E-mail links and "Esqueci minha senha": anonymous, the token is the credential.
	mux.Handle("GET /forgot", page(s.forgotForm))
	mux.Handle("POST /forgot", page(s.forgotSubmit))
	mux.Handle("GET /reset/{token}", page(s.resetForm))
	mux.Handle("POST /reset/{token}", page(s.resetSubmit))
	mux.Handle("GET /invite/{token}", page(s.inviteForm))
	mux.Handle("POST /invite/{token}", page(s.inviteSubmit))
	mux.Handle("GET /unsubscribe/{token}", page(s.unsubscribeForm))
	mux.Handle("POST /unsubscribe/{token}", page(s.unsubscribeSubmit))
	// Digest subscriptions: a tenant user's own; a tenant admin's for anyone of the tenant.
	mux.Handle("GET /account/digests", roles(s.digestsPage, tenantRoles...))
	mux.Handle("POST /account/digests", roles(s.digestsSubscribe, tenantRoles...))
	mux.Handle("POST /account/digests/{id}/delete", roles(s.digestsUnsubscribe, tenantRoles...))
	mux.Handle("GET /{$}", user(s.home))
	mux.Handle("GET /theme.css", user(s.themeCSS))
	mux.Handle("GET /account", user(s.accountPage))
	mux.Handle("POST /account/timezone", user(s.accountZone))
	mux.Handle("POST /account/sessions/{id}/end", user(s.accountSessionEnd))
	mux.Handle("POST /account/sessions/end-others", user(s.accountSessionsEndOthers))
	mux.Handle("GET /account/password", user(s.passwordForm))
	mux.Handle("POST /account/password", user(s.passwordSubmit))
	// The client dashboard, explorer, exports and JSON API: tenant users see their own tenant.
	mux.Handle("GET /dashboard", roles(s.dashboardPage, tenantRoles...))
	mux.Handle("GET /dashboard/export/{chart}", roles(s.chartExport, tenantRoles...))
	mux.Handle("GET /conversations", roles(s.conversationsPage, tenantRoles...))
	mux.Handle("GET /conversations/export.xlsx", roles(s.conversationsExport, tenantRoles...))
	mux.Handle("GET /conversations/export.csv", roles(s.conversationsExport, tenantRoles...))
	mux.Handle("GET /conversations/{id}", roles(s.conversationPage, tenantRoles...))
	mux.Handle("GET /api/v1/dashboard/summary", roles(s.apiSummary, tenantRoles...))
	mux.Handle("GET /api/v1/dashboard/series", roles(s.apiSeries, tenantRoles...))
	mux.Handle("GET /api/v1/conversations", roles(s.apiConversations, tenantRoles...))
	mux.Handle("GET /api/v1/conversations/{id}", roles(s.apiConversation, tenantRoles...))
	mux.Handle("GET /queue", roles(s.queuePage, tenantRoles...))
	mux.Handle("GET /api/v1/queue", roles(s.apiQueue, tenantRoles...))
	// Tenant admins manage their own tenant; clients never reach these (404).
	mux.Handle("GET /settings", roles(s.settingsPage, pg.AppAdmin))
	mux.Handle("POST /settings/branding", roles(s.settingsBranding, pg.AppAdmin))
	mux.Handle("POST /settings/timezone", roles(s.settingsTimezone, pg.AppAdmin))
	mux.Handle("POST /settings/funnel", roles(s.settingsFunnel, pg.AppAdmin))
	mux.Handle("POST /settings/users", roles(s.settingsUserCreate, pg.AppAdmin))
	mux.Handle("POST /settings/users/{id}", roles(s.settingsUserUpdate, pg.AppAdmin))
	mux.Handle("POST /settings/users/{id}/reset-password", roles(s.settingsUserReset, pg.AppAdmin))
	mux.Handle("POST /settings/invitations/{id}/resend", roles(s.settingsInvitationResend, pg.AppAdmin))
	mux.Handle("POST /settings/invitations/{id}/revoke", roles(s.settingsInvitationRevoke, pg.AppAdmin))
	mux.Handle("GET /settings/alerts", roles(s.settingsAlertsPage, pg.AppAdmin))
	mux.Handle("POST /settings/alerts", roles(s.settingsAlertsSave, pg.AppAdmin))
	// Staff see any tenant's dashboard read-only ("ver como cliente"), every view audited.
	mux.Handle("GET /admin/tenants/{tenant}/dashboard", roles(s.dashboardPage, staffRoles...))
	mux.Handle("GET /admin/tenants/{tenant}/dashboard/export/{chart}", roles(s.chartExport, staffRoles...))
	mux.Handle("GET /admin/tenants/{tenant}/conversations", roles(s.conversationsPage, staffRoles...))
	mux.Handle("GET /admin/tenants/{tenant}/conversations/export.xlsx", roles(s.conversationsExport, staffRoles...))
	mux.Handle("GET /admin/tenants/{tenant}/conversations/export.csv", roles(s.conversationsExport, staffRoles...))
	mux.Handle("GET /admin/tenants/{tenant}/conversations/{id}", roles(s.conversationPage, staffRoles...))
	mux.Handle("GET /api/v1/tenants/{tenant}/dashboard/summary", roles(s.apiSummary, staffRoles...))
	mux.Handle("GET /api/v1/tenants/{tenant}/dashboard/series", roles(s.apiSeries, staffRoles...))
	mux.Handle("GET /api/v1/tenants/{tenant}/conversations", roles(s.apiConversations, staffRoles...))
	mux.Handle("GET /api/v1/tenants/{tenant}/conversations/{id}", roles(s.apiConversation, staffRoles...))
	mux.Handle("GET /admin/tenants/{tenant}/queue", roles(s.queuePage, staffRoles...))
	mux.Handle("GET /api/v1/tenants/{tenant}/queue", roles(s.apiQueue, staffRoles...))
	// The GeniAI admin panel: staff read; only super_admin writes (support gets 404 on POSTs).
	mux.Handle("GET /admin", roles(s.adminOverview, staffRoles...))
	mux.Handle("GET /admin/tenants/new", roles(s.adminOnboardForm, pg.AppSuperAdmin))
	mux.Handle("POST /admin/tenants", roles(s.adminOnboard, pg.AppSuperAdmin))
	mux.Handle("GET /admin/tenants/slug", roles(s.adminSlugCheck, staffRoles...))
	mux.Handle("GET /admin/tenants/{tenant}", roles(s.adminTenant, staffRoles...))
	mux.Handle("POST /admin/tenants/{tenant}", roles(s.adminTenantEdit, pg.AppSuperAdmin))
	mux.Handle("POST /admin/tenants/{tenant}/status", roles(s.adminTenantStatus, pg.AppSuperAdmin))
	mux.Handle("POST /admin/tenants/{tenant}/inboxes", roles(s.adminTenantInboxAdd, pg.AppSuperAdmin))
	mux.Handle("POST /admin/tenants/{tenant}/inboxes/{inbox}/delete", roles(s.adminTenantInboxRemove, pg.AppSuperAdmin))
	mux.Handle("POST /admin/tenants/{tenant}/branding", roles(s.adminTenantBranding, pg.AppSuperAdmin))
	mux.Handle("POST /admin/tenants/{tenant}/funnel", roles(s.adminTenantFunnel, pg.AppSuperAdmin))
	mux.Handle("POST /admin/tenants/{tenant}/sync", roles(s.adminTenantSync, pg.AppSuperAdmin))
	mux.Handle("GET /admin/tenants/{tenant}/sync", roles(s.adminTenantSyncPage, staffRoles...))
	mux.Handle("GET /admin/tenants/{tenant}/welcome", roles(s.adminTenantWelcome, staffRoles...))
	mux.Handle("POST /admin/sync", roles(s.adminSyncAll, pg.AppSuperAdmin))
	mux.Handle("GET /admin/users", roles(s.adminUsers, staffRoles...))
	mux.Handle("POST /admin/users", roles(s.adminUserCreate, pg.AppSuperAdmin))
	mux.Handle("POST /admin/users/{id}", roles(s.adminUserUpdate, pg.AppSuperAdmin))
	mux.Handle("POST /admin/users/{id}/unlock", roles(s.adminUserUnlock, pg.AppSuperAdmin))
	mux.Handle("POST /admin/users/{id}/reset-password", roles(s.adminUserReset, pg.AppSuperAdmin))
	// E-mail: a tenant's subscriptions and send log; invitations across tenants, held ones and
	// the accounts holding their addresses (super_admin frees an address, resends).
	mux.Handle("GET /admin/tenants/{tenant}/mail", roles(s.adminTenantMail, staffRoles...))
	// Alerts: a tenant's settings (key masked) and delivery log, read-only for staff.
	mux.Handle("GET /admin/tenants/{tenant}/alerts", roles(s.adminTenantAlerts, staffRoles...))
	mux.Handle("GET /admin/invitations", roles(s.adminInvitations, staffRoles...))
	mux.Handle("POST /admin/invitations/{tenant}/{id}/resend", roles(s.adminInvitationResend, pg.AppSuperAdmin))
	mux.Handle("POST /admin/users/{id}/release", roles(s.adminUserRelease, pg.AppSuperAdmin))
	mux.Handle("GET /admin/audit", roles(s.adminAudit, staffRoles...))
	mux.Handle("GET /admin/clients", roles(s.adminClients, staffRoles...))
	mux.Handle("GET /admin/clients.xlsx", roles(s.adminClientsExport, staffRoles...))
	mux.Handle("GET /admin/clients.csv", roles(s.adminClientsExport, staffRoles...))
	mux.Handle("GET /api/v1/admin/clients", roles(s.apiClients, staffRoles...))
	mux.Handle("GET /admin/audit.xlsx", roles(s.adminAuditExport, staffRoles...))
	mux.Handle("GET /admin/audit.csv", roles(s.adminAuditExport, staffRoles...))
	// Anything else: anonymous visitors go to /login, signed-in ones get a 404 page.
	mux.Handle("/", user(s.notFound))

	return s.recoverPanics(s.logRequests(s.securityHeaders(s.limitBodies(s.metrics.Instrument(compress(mux))))))
}
