package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/tenantadmin"
)

func init() {
	register("user", "usuários: create | set-password | list | update | unlock", cmdUser)
}

// readPassword reads one line from stdin when it is not a terminal; "" means "generate one".
func readPassword(r io.Reader) (string, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return "", nil // a terminal: generate rather than echo a typed password
		}
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

const userUsage = `uso: geniai user create --tenant SLUG --email E --role client|admin|super_admin|support [--name N] [--password-stdin]
     geniai user set-password --email E [--password-stdin]
     geniai user list [--tenant SLUG] [--q TEXT] | update --email E [--name --role --active] | unlock --email E
`

func cmdUser(ctx context.Context, e *env, args []string) error {
	if err := groupUsage(e, args, userUsage); err != nil {
		return err
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create":
		return userCreate(ctx, e, args)
	case "set-password":
		return userSetPassword(ctx, e, args)
	case "list":
		return userList(ctx, e, args)
	case "update", "unlock":
		return userUpdate(ctx, e, sub, args)
	}
	return apperr.New(apperr.Invalid, "err.cli.unknown_subcommand", "user", sub)
}

func userCreate(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "user create")
	var in tenantadmin.UserInput
	fs.StringVar(&in.TenantSlug, "tenant", "", "slug do cliente (obrigatório)")
	fs.StringVar(&in.Email, "email", "", "e-mail de acesso (obrigatório)")
	fs.StringVar(&in.Role, "role", "", "papel: client, admin, super_admin ou support (obrigatório)")
	fs.StringVar(&in.FullName, "name", "", "nome completo")
	fromStdin := fs.Bool("password-stdin", false, "ler a senha da entrada padrão (senão uma senha é gerada e mostrada uma vez)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if in.TenantSlug == "" || in.Email == "" || in.Role == "" {
		return apperr.New(apperr.Invalid, "err.cli.user_create_flags")
	}
	if *fromStdin {
		pw, err := readPassword(e.stdin)
		if err != nil {
			return err
		}
		if pw == "" {
			return apperr.New(apperr.Invalid, "err.cli.stdin_no_password")
		}
		in.Password = pw
	}
	svc, closeDB, err := openServices(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	u, password, err := svc.tenant.CreateUser(ctx, cli, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "usuário %s criado (id %d, papel %s)\n", u.Email, u.ID, u.Role)
	if in.Password == "" {
		fmt.Fprintf(e.stdout, "senha: %s\n(guarde agora: ela não será mostrada de novo)\n", password)
	}
	return nil
}

// userSetPassword replaces a user's password, found by e-mail in any tenant.
func userSetPassword(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "user set-password")
	email := fs.String("email", "", "e-mail do usuário (obrigatório)")
	fromStdin := fs.Bool("password-stdin", false, "ler a senha da entrada padrão (senão uma senha é gerada e mostrada uma vez)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return apperr.New(apperr.Invalid, "err.cli.need_flag", "--email")
	}
	pw := ""
	if *fromStdin {
		var err error
		if pw, err = readPassword(e.stdin); err != nil {
			return err
		}
		if pw == "" {
			return apperr.New(apperr.Invalid, "err.cli.stdin_no_password")
		}
	}
	svc, closeDB, err := openServices(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	password, err := svc.staff.SetPassword(ctx, cli, *email, pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "senha de %s trocada; as sessões abertas desse usuário foram encerradas\n", strings.ToLower(*email))
	if pw == "" {
		fmt.Fprintf(e.stdout, "senha: %s\n(guarde agora: ela não será mostrada de novo)\n", password)
	}
	return nil
}

// userList lists users across tenants, or of one (--tenant geniai: the staff).
func userList(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "user list")
	slug := fs.String("tenant", "", "só deste cliente")
	q := fs.String("q", "", "busca por e-mail, nome ou cliente")
	if err := parse(fs, args); err != nil {
		return err
	}
	svc, closeDB, err := openServices(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	var tid *int64
	if *slug != "" {
		t, err := tenantBySlug(ctx, svc, *slug)
		if err != nil && *slug != "geniai" {
			return err
		}
		tid = &t.ID
	}
	rows, err := svc.staff.SearchUsers(ctx, cli, tid, *q)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tCLIENTE\tE-MAIL\tNOME\tPAPEL\tATIVO\tBLOQUEADO ATÉ")
	for _, u := range rows {
		locked := ""
		if u.LockedUntil != nil && u.LockedUntil.After(time.Now()) {
			locked = u.LockedUntil.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%t\t%s\n", u.ID, u.TenantSlug, u.Email, u.FullName, u.Role, u.IsActive, locked)
	}
	return w.Flush()
}

// userUpdate is update and unlock, for the user with --email.
func userUpdate(ctx context.Context, e *env, sub string, args []string) error {
	fs := flags(e, "user "+sub)
	email := fs.String("email", "", "e-mail do usuário (obrigatório)")
	name := fs.String("name", "", "nome")
	role := fs.String("role", "", "papel")
	active := fs.Bool("active", true, "ativo (--active=false desativa e encerra as sessões)")
	if err := parse(fs, args); err != nil {
		return err
	}
	svc, closeDB, err := openServices(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	rows, err := svc.staff.SearchUsers(ctx, cli, nil, *email)
	if err != nil {
		return err
	}
	var u *dbsqlc.UserSearchRow
	for i := range rows {
		if rows[i].Email == strings.ToLower(strings.TrimSpace(*email)) {
			u = &rows[i]
		}
	}
	if u == nil {
		return apperr.New(apperr.NotFound, "err.user.not_found_email", *email)
	}
	if sub == "unlock" {
		return done(e, svc.staff.UnlockUser(ctx, cli, u.ID), "%s desbloqueado", u.Email)
	}
	edit := tenantadmin.UserEdit{FullName: u.FullName, Role: u.Role, Active: u.IsActive}
	if set(fs, "name") {
		edit.FullName = *name
	}
	if set(fs, "role") {
		edit.Role = *role
	}
	if set(fs, "active") {
		edit.Active = *active
	}
	_, err = svc.tenant.UpdateUser(ctx, cli, u.ID, edit)
	return done(e, err, "%s atualizado", u.Email)
}
