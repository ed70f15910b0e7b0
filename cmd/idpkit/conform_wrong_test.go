package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idpkit/idpkit/suites/harness"
)

var userNameEq = regexp.MustCompile(`(?i)^\s*userName\s+eq\s+"([^"]*)"\s*$`)

// caseSensitiveUserName makes idpkit's server compare userName
// case-sensitively, as many real servers wrongly do: a userName filter
// finds only the exact case, and a POST whose userName differs from an
// existing one only in case answers 201 (without storing anything).
func caseSensitiveUserName(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		users := strings.HasSuffix(r.URL.Path, "/scim/v2/Users")
		switch {
		case users && r.Method == "GET" && userNameEq.MatchString(r.URL.Query().Get("filter")):
			want := userNameEq.FindStringSubmatch(r.URL.Query().Get("filter"))[1]
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			var list map[string]any
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &list) != nil {
				w.WriteHeader(rec.Code)
				w.Write(rec.Body.Bytes())
				return
			}
			kept := []any{}
			rs, _ := list["Resources"].([]any)
			for _, u := range rs {
				if m, _ := u.(map[string]any); m["userName"] == want {
					kept = append(kept, u)
				}
			}
			list["Resources"], list["totalResults"], list["itemsPerPage"] = kept, len(kept), len(kept)
			w.WriteHeader(rec.Code)
			json.NewEncoder(w).Encode(list)
		case users && r.Method == "POST":
			b, _ := io.ReadAll(r.Body)
			var body map[string]any
			json.Unmarshal(b, &body)
			userName, _ := body["userName"].(string)
			q := httptest.NewRequestWithContext(r.Context(), "GET", r.URL.Path+"?filter="+url.QueryEscape(`userName eq "`+userName+`"`), nil)
			q.Header.Set("Authorization", r.Header.Get("Authorization"))
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, q)
			var list struct{ Resources []map[string]any }
			json.Unmarshal(rec.Body.Bytes(), &list)
			for _, u := range list.Resources {
				if got, _ := u["userName"].(string); got != userName && strings.EqualFold(got, userName) {
					delete(body, "password")
					body["id"] = "fake-" + userName
					w.Header().Set("Content-Type", "application/scim+json")
					w.WriteHeader(201)
					json.NewEncoder(w).Encode(body)
					return
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			next.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func TestConformNamesTheFailingChecks(t *testing.T) {
	ctx := context.Background()
	env, err := harness.Start(ctx, harness.Options{Dir: t.TempDir(), Wrap: caseSensitiveUserName})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	created, err := env.Tenants.Create(ctx, "wrong")
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args := []string{"--scim-url", created.SCIMBaseURL, "--token", created.Token, "--label", "okta-spec"}
	err = cmdConform(ctx, args, &out, &errb)
	var failed *failedError
	if !errors.As(err, &failed) || failed.n != 1 {
		t.Fatalf("cmdConform = %v, want a failedError for 1 check\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	if code := run(ctx, append([]string{"conform"}, args...), io.Discard, io.Discard); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	var marks []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "✓ ") || strings.HasPrefix(line, "✗ ") {
			id, _, _ := strings.Cut(line[len("✓ "):], " ")
			marks = append(marks, line[:len("✓")]+" "+id)
		}
	}
	want := []string{"✓ okta-spec-01-list-users", "✓ okta-spec-02-get-user", "✓ okta-spec-03-filter-unknown", "✓ okta-spec-04-unknown-id",
		"✓ okta-spec-06-create-user", "✓ okta-spec-08-duplicate", "✗ okta-spec-09-filter-case", "✓ okta-spec-10-groups-fast", "✓ okta-spec-11-wrong-token"}
	if diff := cmp.Diff(want, marks); diff != "" {
		t.Errorf("checklist (-want +got):\n%s\n%s", diff, out.String())
	}
	for _, phrase := range []string{
		"want exactly the user",
		`request:  GET /Users?filter=userName%20eq%20%22CASE.`,
		"Summary: 8/9 checks passed, 1 failed",
		"Failed: okta-spec-09-filter-case",
	} {
		if !strings.Contains(out.String(), phrase) {
			t.Errorf("the output lacks %q:\n%s", phrase, out.String())
		}
	}
}

func TestConformListLabels(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		labels []string // every listed check carries one of these
		ids    []string // ID prefixes that must be listed
	}{
		{"patch and etag", []string{"--list", "--label", "patch,etag"}, 0, []string{"patch", "etag"}, []string{"patch-", "etag-"}},
		{"bulk", []string{"--list", "--label", "bulk"}, 0, []string{"bulk"}, []string{"bulk-config"}},
		{"entra", []string{"--list", "--label", "entra"}, 0, []string{"entra"}, []string{"entra-", "patch-pathless-attribute-paths"}},
		{"unknown label", []string{"--list", "--label", "patches"}, 2, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, context.Background(), append([]string{"conform"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errs)
			}
			if tt.labels == nil {
				if !strings.Contains(errs, `unknown label "patches"`) || !strings.Contains(errs, "bulk, ") {
					t.Errorf("want the unknown label named and the labels listed: %s", errs)
				}
				return
			}
			var ids []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				f := strings.Fields(l)
				if len(f) < 3 {
					t.Fatalf("--list line %q lacks an ID, labels and a title", l)
				}
				ids = append(ids, f[0])
				if !slices.ContainsFunc(strings.Split(f[1], ","), func(l string) bool { return slices.Contains(tt.labels, l) }) {
					t.Errorf("--label %s listed %s", tt.args[2], l)
				}
			}
			for _, p := range tt.ids {
				if !slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(id, p) }) {
					t.Errorf("--label %s listed no %s… check:\n%s", tt.args[2], p, out)
				}
			}
		})
	}
}
