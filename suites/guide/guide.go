// Package guide plays the "Connect Okta Identity Provider" guide end to end,
// as an Okta admin and then as users would: it creates a tenant in the app,
// connects a "SCIM 2.0 (OAuth Bearer Token)" app in Okta to it (RFC 7644
// provisioning), pushes a group, changes and unassigns users, connects an
// OIDC web app (OpenID Connect Core 1.0 §3.1, Authorization Code flow),
// signs users in and out of luck, and runs the SCIM conformance catalogue.
//
// It talks to both sides only over HTTP — the app's tenant URL, admin link
// and login pages, and Okta's management API — so it works against the
// in-process servers of `idpkit conform` and against real deployments.
package guide

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/idpkit/idpkit/scim/tenant"
	"github.com/idpkit/idpkit/suites/check"
)

// Env is what the guide needs to reach.
type Env struct {
	// Tenant is the tenant to create; empty means "acme-" and a random suffix.
	Tenant string
	// CreateTenant creates a tenant in the app and returns what the
	// Connect Okta dialog shows (like `idpkit tenant create`).
	CreateTenant func(ctx context.Context, name string) (tenant.Created, error)
	// OktaURL is the Okta org's base URL (the "Okta domain");
	// OktaAPIToken its management API token (SSWS).
	OktaURL, OktaAPIToken string
	// HTTPClient reaches both sides; nil means a client with a 30s timeout.
	HTTPClient *http.Client
	// Checks is the SCIM catalogue to run in the last step; nil means check.SCIM().
	Checks []check.Check
	// Progress, when set, is called as each check of the last step finishes.
	Progress func(done, total int, r check.Result)
	// Wait is how long a step waits for provisioning to reach the app
	// (Okta provisions asynchronously); zero means 10 seconds.
	Wait time.Duration
}

// Step is the outcome of one step of the guide.
type Step struct {
	N      int
	Title  string
	OK     bool
	Detail string         // what was seen, or why it failed
	Checks []check.Result // the conformance results (last step only)
}

// Titles returns the titles of the guide's steps, in order; Run returns
// one Step per title.
func Titles() []string { return slices.Clone(titles[:]) }

// titles is never written: callers get a copy from Titles.
var titles = [...]string{
	"create a tenant; read its tenant URL, secret and sign-in redirect URI",
	"create the SCIM 2.0 (OAuth Bearer Token) app in Okta, enable Create Users, Update User Attributes, Deactivate Users; Test API Credentials",
	"assign a group with three users; the group and the users appear in the app",
	"change a user's profile in Okta; unassign a user: deactivated in the app, not deleted",
	"create the OIDC web app with the sign-in redirect URI; enter the Okta domain, client id and secret in the app",
	"sign in as a provisioned active user (signed in), a deactivated user and a never-assigned user (both refused)",
	"run the SCIM conformance checks against the tenant",
}

// Run plays the guide and returns one Step per entry of Titles. report,
// when not nil, is called as each step ends. A step that fails makes the
// steps that depend on it fail with "not run".
func Run(ctx context.Context, env Env, report func(Step)) []Step {
	if env.HTTPClient == nil {
		env.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if env.Checks == nil {
		env.Checks = check.SCIM()
	}
	if env.Wait <= 0 {
		env.Wait = 10 * time.Second
	}
	sfx := randomSuffix()
	if env.Tenant == "" {
		env.Tenant = "acme-" + sfx
	}
	p := &play{env: env, sfx: sfx, okta: &oktaAdmin{base: env.OktaURL, token: env.OktaAPIToken, client: env.HTTPClient}}
	funcs := []func(context.Context) (string, error){p.createTenant, p.connectSCIM, p.assignGroup, p.updateAndUnassign, p.connectOIDC, p.signIns, p.conform}
	// needs[i] lists the steps that step i depends on (0-based).
	needs := [][]int{nil, {0}, {1}, {2}, {0}, {2, 3, 4}, {0}}
	steps := make([]Step, len(funcs))
	for i, f := range funcs {
		s := Step{N: i + 1, Title: titles[i]}
		blocked := 0
		for _, d := range needs[i] {
			if !steps[d].OK {
				blocked = d + 1
				break
			}
		}
		if blocked != 0 {
			s.Detail = fmt.Sprintf("not run: step %d failed", blocked)
		} else {
			detail, err := f(ctx)
			s.OK, s.Detail = err == nil, detail
			if err != nil {
				s.Detail = err.Error()
			}
			if i == len(funcs)-1 {
				s.Checks = p.results
			}
		}
		steps[i] = s
		if report != nil {
			report(s)
		}
	}
	return steps
}
