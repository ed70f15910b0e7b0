package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/idpkit/idpkit/scim/store"
)

// cliActor is the audit actor of a change made with an idpkit tenant
// command (the admin API's changes have actor "admin").
const cliActor = "cli"

// cliDetail is the JSON detail of a tenant command's audit record; the
// same keys as the server's admin records (scim/login).
type cliDetail struct {
	Reason string `json:"reason,omitempty"`
	Grace  string `json:"grace,omitempty"`
	Key    string `json:"key,omitempty"`
}

// auditCLI records an admin change made by a tenant command in the
// tenant's audit trail, synchronously: kind admin, actor "cli", source
// this host's name. The change has happened by then, so a failure to
// record it is reported on stderr and does not fail the command.
func auditCLI(ctx context.Context, st store.Store, stderr io.Writer, tenant, action, outcome string, d cliDetail) {
	var detail []byte
	if d != (cliDetail{}) {
		detail, _ = json.Marshal(d)
	}
	host, _ := os.Hostname()
	rec := store.AuditRecord{At: time.Now(), Kind: store.AuditAdmin, Actor: cliActor, Source: host, Action: action, Detail: detail, Outcome: outcome}
	if err := st.AppendAudit(ctx, tenant, []store.AuditRecord{rec}); err != nil {
		fmt.Fprintf(stderr, "idpkit: warning: the change was made but not recorded in the audit trail: %v\n", err)
	}
}
