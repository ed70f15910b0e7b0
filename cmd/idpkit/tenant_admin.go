package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/login"
	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// cmdTenantAdminGroup is tenant admin-group NAME GROUP: it names the SCIM
// group (by displayName) whose active members may sign in to the tenant's
// admin pages with Okta (/t/NAME/admin/signin); "" clears it.
func cmdTenantAdminGroup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tenant admin-group", "tenant admin-group NAME GROUP [--db DSN] [--public-url URL]\n\n"+
		"Names the SCIM group (its displayName, as Okta pushes it) whose active members may sign in to the tenant's admin pages "+
		"with Okta at /t/NAME/admin/signin. An empty GROUP (\"\") turns that off; the one-time admin link always works", stderr)
	dsn := fs.String("db", envOr("IDPKIT_DB", defaultDB), "database: sqlite:PATH or postgres://… (env IDPKIT_DB)")
	public := fs.String("public-url", envOr("IDPKIT_PUBLIC_URL", defaultPublicURL), "the server's public base URL, for the sign-in address printed (env IDPKIT_PUBLIC_URL)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: tenant admin-group takes NAME and GROUP (\"\" clears it)", errUsage)
	}
	name, group := pos[0], strings.TrimSpace(pos[1])
	if len(group) > 256 {
		return fmt.Errorf("%w: the group name is longer than 256 bytes", errUsage)
	}
	pub, err := checkBaseURL("--public-url", *public)
	if err != nil {
		return err
	}
	db := tenantDB{dsn: *dsn, given: flagSet(fs, "db") || os.Getenv("IDPKIT_DB") != ""}
	if err := db.mustExist(); err != nil {
		return err
	}
	// The client secret is written back as it was read (encrypted or
	// not), so no key is needed.
	st, err := sqlstore.Open(ctx, *dsn, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.UpdateTenant(ctx, name, func(t *store.Tenant) error {
		t.AdminGroup = group
		t.Modified = time.Now()
		return nil
	})
	if err != nil {
		return db.explain(name, err)
	}
	auditCLI(ctx, st, stderr, name, "admin-group-saved", "ok", cliDetail{})
	if group == "" {
		_, err = fmt.Fprintf(stdout, "tenant %s: admin sign-in with Okta is off; use idpkit tenant admin-link %s\n", name, name)
		return err
	}
	if _, err := fmt.Fprintf(stdout, "tenant %s: active members of the SCIM group %q may sign in as admins at %s/t/%s/admin/signin\n", name, group, pub, name); err != nil {
		return err
	}
	for _, w := range adminGroupWarnings(ctx, st, t, group) {
		fmt.Fprintf(stderr, "idpkit: note: %s\n", w)
	}
	return nil
}

// adminGroupWarnings says what still stands between the tenant's admins
// and signing in: sign-in not configured, the group not pushed by Okta yet
// (or pushed with another spelling), or pushed without active members.
func adminGroupWarnings(ctx context.Context, st store.Store, t store.Tenant, group string) []string {
	var out []string
	if t.Issuer == "" {
		out = append(out, "sign-in with Okta is not configured yet (the Connect Okta dialog's Sign-in panel, or idpkit tenant configure); until it is, admins use idpkit tenant admin-link "+t.Name)
	}
	// displayName matches case-insensitively in the store; the admin check
	// wants it exactly as Okta pushes it.
	groups, err := st.ListResources(ctx, t.Name, store.TypeGroup, store.Query{Where: store.Eq(store.FieldDisplayName, group), Limit: 10})
	if err != nil {
		return append(out, "could not look the group up: "+err.Error())
	}
	var exact *store.Record
	var others []string
	for i := range groups {
		if groups[i].DisplayName == group {
			exact = &groups[i]
		} else {
			others = append(others, strconv.Quote(groups[i].DisplayName))
		}
	}
	switch {
	case exact == nil && len(others) > 0:
		return append(out, fmt.Sprintf("no SCIM group is named exactly %q, but Okta pushed %s: the name must match exactly", group, strings.Join(others, ", ")))
	case exact == nil:
		return append(out, fmt.Sprintf("Okta has not pushed a group named %q to this tenant yet: push it in the SCIM app's Push Groups tab, with the admins in it", group))
	}
	members, err := st.ListMembers(ctx, t.Name, exact.ID, nil)
	if err != nil {
		return append(out, "could not read the group's members: "+err.Error())
	}
	active := 0
	for _, m := range members {
		u, err := st.GetResource(ctx, t.Name, store.TypeUser, m.Value)
		if err == nil && login.UserActive(u) {
			active++
		}
	}
	if active == 0 {
		out = append(out, fmt.Sprintf("the group %q has no active members yet, so nobody can sign in as an admin with Okta", group))
	}
	return out
}
