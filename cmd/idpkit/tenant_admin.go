package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/idpkit/idpkit/scim/store"
	"github.com/idpkit/idpkit/scim/store/sqlstore"
)

// cmdTenantAdminGroup is tenant admin-group NAME GROUP: it names the SCIM
// group (by displayName) whose active members may sign in to the tenant's
// admin pages with Okta (/t/NAME/admin/signin); "" clears it.
func cmdTenantAdminGroup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tenant admin-group", "tenant admin-group NAME GROUP [--db DSN]\n\n"+
		"Names the SCIM group (its displayName, as Okta pushes it) whose active members may sign in to the tenant's admin pages "+
		"with Okta at /t/NAME/admin/signin. An empty GROUP (\"\") turns that off; the one-time admin link always works", stderr)
	dsn := fs.String("db", envOr("IDPKIT_DB", defaultDB), "database: sqlite:PATH or postgres://… (env IDPKIT_DB)")
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
	if _, err := st.UpdateTenant(ctx, name, func(t *store.Tenant) error {
		t.AdminGroup = group
		t.Modified = time.Now()
		return nil
	}); err != nil {
		return db.explain(name, err)
	}
	if group == "" {
		_, err = fmt.Fprintf(stdout, "tenant %s: admin sign-in with Okta is off; use idpkit tenant admin-link %s\n", name, name)
		return err
	}
	_, err = fmt.Fprintf(stdout, "tenant %s: active members of the SCIM group %q may sign in as admins at /t/%s/admin/signin\n", name, group, name)
	return err
}
