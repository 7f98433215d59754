package pg

import (
	"context"
	"errors"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geniai/analytics/internal/apperr"
)

// constraintMessages turns a violated constraint into a sentence for the person who typed the
// value. Names follow PostgreSQL's defaults (table_column_check, table_column_key).
var constraintMessages = map[string]string{
	"tenants_slug_key":                          "Já existe um cliente com esse identificador (slug).",
	"tenants_slug_check":                        "Identificador (slug) inválido: use de 1 a 40 letras minúsculas, números e hífens, sem hífen no início ou no fim.",
	"tenants_name_check":                        "Informe um nome com 1 a 120 caracteres.",
	"tenants_status_check":                      "Situação inválida: use active, trial, suspended ou cancelled.",
	"tenants_plan_check":                        "Plano inválido: use basic, pro ou enterprise.",
	"tenants_timezone_check":                    "Fuso horário desconhecido: use um nome IANA como America/Sao_Paulo.",
	"tenants_check":                             "Um cliente em teste precisa de data de fim do teste.",
	"users_email_key":                           "Já existe um usuário com esse e-mail.",
	"users_email_check":                         "E-mail inválido.",
	"users_role_check":                          "Papel inválido: use client, admin, super_admin ou support.",
	"users_auth_version_forward":                "A versão de autenticação não pode voltar atrás.",
	"users_role_matches_tenant":                 "Esse papel não é permitido nesse cliente: super_admin e support são da GeniAI; admin e client são dos clientes.",
	"users_full_name_check":                     "Nome muito longo (máximo de 120 caracteres).",
	"users_tenant_id_fkey":                      "Cliente não encontrado.",
	"tenant_inboxes_inbox_id_key":               "Essa caixa de entrada já está vinculada a outro cliente.",
	"tenant_inboxes_pkey":                       "Essa caixa de entrada já está vinculada a esse cliente.",
	"tenant_inboxes_tenant_id_fkey":             "Cliente não encontrado.",
	"tenant_settings_primary_color_check":       "Cor principal inválida: use o formato #RRGGBB.",
	"tenant_settings_secondary_color_check":     "Cor secundária inválida: use o formato #RRGGBB.",
	"tenant_settings_logo_url_check":            "Endereço do logotipo inválido: use uma URL http(s) de até 500 caracteres.",
	"tenant_settings_display_name_check":        "Nome de exibição muito longo (máximo de 120 caracteres).",
	"tenant_settings_default_period_days_check": "Período padrão inválido: use 1, 7, 30, 90 ou 365 dias.",
	"tenant_settings_lead_regex_check":          "Expressão regular de lead inválida.",
	"tenant_settings_visit_regex_check":         "Expressão regular de visita inválida.",
	"tenant_settings_converted_regex_check":     "Expressão regular de matrícula inválida.",
	"tenant_settings_lead_regex_safe":           "A expressão regular de lead usa uma referência anterior ou um lookaround, que pode travar a sincronização.",
	"tenant_settings_visit_regex_safe":          "A expressão regular de visita usa uma referência anterior ou um lookaround, que pode travar a sincronização.",
	"tenant_settings_converted_regex_safe":      "A expressão regular de matrícula usa uma referência anterior ou um lookaround, que pode travar a sincronização.",
}

// MapError converts driver and database errors into apperr errors; other errors pass through
// wrapped as Internal. It is idempotent: an apperr passes unchanged.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.Wrap(err, apperr.NotFound, "Não encontrado.")
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return apperr.Wrap(err, apperr.Unavailable, "O banco de dados não respondeu a tempo.")
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return mapPgError(err, pe)
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) {
		return apperr.Wrap(err, apperr.Unavailable, "O banco de dados está indisponível no momento.")
	}
	return apperr.Wrap(err, apperr.Internal, "erro interno")
}

func mapPgError(err error, pe *pgconn.PgError) error {
	if msg, ok := constraintMessages[pe.ConstraintName]; ok {
		code := apperr.Invalid
		switch pe.Code {
		case "23505":
			code = apperr.Conflict
		}
		return apperr.Wrap(err, code, "%s", msg)
	}
	switch pe.Code {
	case "23505": // unique_violation
		return apperr.Wrap(err, apperr.Conflict, "Esse registro já existe.")
	case "23503": // foreign_key_violation
		return apperr.Wrap(err, apperr.Invalid, "Registro relacionado não encontrado.")
	case "23502", "23514", "22001", "22003", "22007", "22008", "22023", "22P02", "2201B", "22021", "22P05": // not null, check, too long, out of range, datetime, invalid value, bad regex, bad encoding
		return apperr.Wrap(err, apperr.Invalid, "Valor inválido.")
	case "42501": // insufficient_privilege, including row-level security violations
		return apperr.Wrap(err, apperr.Forbidden, "Você não tem permissão para esta ação.")
	case "57014": // query_canceled: statement_timeout
		return apperr.Wrap(err, apperr.Unavailable, "A consulta demorou demais e foi cancelada.")
	case "57P01", "57P02", "57P03", "53300", "08000", "08003", "08006": // shutdown, too many connections, connection failures
		return apperr.Wrap(err, apperr.Unavailable, "O banco de dados está indisponível no momento.")
	case "55P03", "40001", "40P01": // lock_not_available, serialization, deadlock
		return apperr.Wrap(err, apperr.Conflict, "Outra operação está em andamento; tente de novo.")
	}
	return apperr.Wrap(err, apperr.Internal, "erro interno")
}
