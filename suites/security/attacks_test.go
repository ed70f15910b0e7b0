package security_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/idpkit/idpkit/mockidp/op"
	"github.com/idpkit/idpkit/scim/adminapi"
	"github.com/idpkit/idpkit/scim/app"
	"github.com/idpkit/idpkit/scim/login"
	"github.com/idpkit/idpkit/scim/store"
)

const userSchema = "urn:ietf:params:scim:schemas:core:2.0:User"

// unchanged runs attack and asserts the store holds exactly what it held
// before.
func unchanged(e *env, attack func()) {
	GinkgoHelper()
	before := e.snap()
	attack()
	Expect(e.snap()).To(Equal(before), "stored data changed")
}

// listIDs returns the ids of a ListResponse body.
func listIDs(body []byte) ([]string, int) {
	var lr struct {
		TotalResults int
		Resources    []struct{ ID string }
	}
	json.Unmarshal(body, &lr)
	var ids []string
	for _, r := range lr.Resources {
		ids = append(ids, r.ID)
	}
	return ids, lr.TotalResults
}

// sqlPayloads are classic SQL injection strings, for SQLite and PostgreSQL.
var sqlPayloads = []string{
	`' OR '1'='1`,
	`x' OR 1=1 --`,
	`x"; DROP TABLE resources; --`,
	`x'); DROP TABLE tenants; --`,
	`' UNION SELECT name, name, name FROM sqlite_master --`,
	`' UNION SELECT table_name FROM information_schema.tables --`,
	`%' OR '%'='`,
	`\' OR 1=1 /*`,
	`'; SELECT pg_sleep(5); --`,
}

func attacks(get func() *env, once bool) {
	var e *env
	BeforeEach(func() { e = get() })

	It("refuses a tenant's token on another tenant's every SCIM route", func() {
		methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
		user, group := e.users["beta"], e.groups["beta"]
		paths := []string{"/Users", "/Users/" + user, "/Groups", "/Groups/" + group, "/Users/.search", "/Groups/.search", "/.search",
			"/Bulk", "/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas", "/Schemas/" + userSchema, "/Me", "/", "/nope"}
		body := map[string]any{"schemas": []string{userSchema, "urn:ietf:params:scim:api:messages:2.0:PatchOp", "urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
			"userName": "mallory", "Operations": []map[string]any{{"op": "replace", "path": "active", "value": false,
				"method": "DELETE", "path2": "/Users/" + user}}}
		// The audit target of each path: its endpoint, never the id.
		targets := map[string]string{"/Users": "User", "/Users/" + user: "User", "/Groups": "Group", "/Groups/" + group: "Group",
			"/Users/.search": "User", "/Groups/.search": "Group", "/.search": ".search", "/Bulk": "Bulk",
			"/ServiceProviderConfig": "ServiceProviderConfig", "/ResourceTypes": "ResourceTypes", "/ResourceTypes/User": "ResourceTypes",
			"/Schemas": "Schemas", "/Schemas/" + userSchema: "Schemas", "/Me": "Me", "/": "", "/nope": ""}
		want := map[auditEntry]int{}
		since := time.Now()
		unchanged(e, func() {
			for _, m := range methods {
				for _, p := range paths {
					// The tenant's failure budget (100 a minute) leaves
					// room for one missing token per method.
					toks := []string{e.token("acme")}
					if p == "/Users" {
						toks = append(toks, "")
					}
					for _, tok := range toks {
						resp, data := e.scim("beta", tok, m, p, body, nil)
						Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized), "%s %s: %s", m, p, data)
						Expect(resp.Header.Get("WWW-Authenticate")).NotTo(BeEmpty())
						Expect(string(data)).NotTo(ContainSubstring(user))
						Expect(string(data)).NotTo(ContainSubstring("beta.user"))
						reason := "wrong-token"
						if tok == "" {
							reason = "no-token"
						}
						want[auditEntry{"scim", "auth-refused", targets[p], "401", reason}]++
					}
				}
			}
		})
		// Every attempt, reads included, is counted in auth-refused
		// records of beta, with no actor — summarised, so at most two rows
		// per kind (the first at once, the rest in the minute's count);
		// acme, whose token it was, records nothing.
		recs := e.auditOf("beta", since)
		Expect(tally(recs)).To(Equal(want))
		rows := map[string]int{}
		for _, r := range recs {
			var d map[string]any
			must(json.Unmarshal(r.Detail, &d))
			rows[r.Target+" "+fmt.Sprint(d["method"], " ", d["reason"])]++
		}
		for kind, n := range rows {
			Expect(n).To(BeNumerically("<=", 2), "rows of %s", kind)
		}
		for _, r := range recs {
			Expect(r.Actor).To(BeEmpty())
			Expect(r.Source).To(Equal("127.0.0.1"))
		}
		Expect(e.auditOf("acme", since)).To(BeEmpty())
	})

	It("refuses SQL injection through filters, sorting, attributes, paging, PATCH paths and ids", func() {
		own := map[string]bool{e.users["acme"]: true, e.groups["acme"]: true}
		var filters []string
		for _, p := range sqlPayloads {
			q := strings.ReplaceAll(p, `"`, `\"`)
			for _, o := range []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"} {
				filters = append(filters, fmt.Sprintf(`userName %s "%s"`, o, q), fmt.Sprintf(`emails.value %s "%s"`, o, q),
					fmt.Sprintf(`displayName %s "%s"`, o, q), fmt.Sprintf(`meta.lastModified %s "%s"`, o, q))
			}
			filters = append(filters,
				fmt.Sprintf(`userName pr and userName eq "%s"`, q),
				fmt.Sprintf(`userName eq "nobody" or externalId eq "%s"`, q),
				fmt.Sprintf(`not (userName ne "%s")`, q),
				fmt.Sprintf(`emails[value eq "%s" or type co "%s"]`, q, q),
				fmt.Sprintf(`members[value eq "%s"]`, q),
				fmt.Sprintf(`id eq "%s"`, q),
				p+` pr`,
				`userName`+p+` eq "x"`,
				`userName eq "x" `+p,
			)
		}
		mustMatchNone := regexp.MustCompile(`^(userName|emails\.value|displayName) (eq|co|sw|ew) |^id eq |and userName eq|^emails\[|^members\[`)
		since := time.Now()
		writes := map[auditEntry]int{} // the audit each refused write leaves
		unchanged(e, func() {
			for _, typ := range []string{"Users", "Groups"} {
				for _, f := range filters {
					resp, data := e.scim("acme", e.token("acme"), "GET", "/"+typ+"?filter="+url.QueryEscape(f), nil, nil)
					Expect(resp.StatusCode).To(BeElementOf(200, 400), "%s: %s", f, data)
					ids, total := listIDs(data)
					for _, id := range ids {
						Expect(own).To(HaveKey(id), f)
					}
					if resp.StatusCode == 200 && mustMatchNone.MatchString(f) && !strings.HasPrefix(f, "userName eq \"nobody\"") {
						Expect(total).To(Equal(0), "%s matched %d", f, total)
					}
					resp, data = e.scim("acme", e.token("acme"), "POST", "/"+typ+"/.search",
						map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": f}, nil)
					Expect(resp.StatusCode).To(BeElementOf(200, 400), "search %s: %s", f, data)
				}
			}
			var params []string
			for _, p := range sqlPayloads {
				for _, k := range []string{"sortBy", "sortOrder", "attributes", "excludedAttributes", "startIndex", "count"} {
					params = append(params, k+"="+url.QueryEscape(p), k+"="+url.QueryEscape("userName,"+p), k+"="+url.QueryEscape("1 "+p))
				}
			}
			params = append(params, "startIndex=-1", "startIndex=0", "startIndex=99999999999999999999", "count=-5", "count=99999999999999999999",
				"count=1e9", "startIndex=0x10", "sortBy=userName&sortOrder=descending;DROP", "sortBy=members.value", "sortBy=emails")
			for _, q := range params {
				resp, data := e.scim("acme", e.token("acme"), "GET", "/Users?"+q, nil, nil)
				Expect(resp.StatusCode).To(BeElementOf(200, 400), "%s: %s", q, data)
				ids, _ := listIDs(data)
				for _, id := range ids {
					Expect(own).To(HaveKey(id), q)
				}
			}
			uid := e.users["acme"]
			for _, p := range sqlPayloads {
				for _, path := range []string{"userName" + p, `emails[value eq "x"] ` + p, p, `name.` + p, `members[value eq "` + strings.ReplaceAll(p, `"`, `\"`) + `"]`} {
					for _, opn := range []string{"add", "replace", "remove"} {
						resp, data := e.scim("acme", e.token("acme"), "PATCH", "/Users/"+uid, map[string]any{
							"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
							"Operations": []map[string]any{{"op": opn, "path": path, "value": "x"}}}, nil)
						Expect(resp.StatusCode).To(Equal(400), "%s %s: %s", opn, path, data)
						writes[auditEntry{"scim", "patch", "User/" + uid, "400", ""}]++
					}
				}
				id := url.PathEscape(p)
				for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
					resp, data := e.scim("acme", e.token("acme"), m, "/Users/"+id, map[string]any{"schemas": []string{userSchema}, "userName": "x"}, nil)
					Expect(resp.StatusCode).To(BeElementOf(400, 404), "%s id %q: %s", m, p, data)
					if m != "GET" {
						writes[auditEntry{"scim", map[string]string{"PUT": "replace", "PATCH": "patch", "DELETE": "delete"}[m], "User/" + p, strconv.Itoa(resp.StatusCode), ""}]++
					}
				}
			}
		})
		// The refused writes are in the audit, made with acme's current
		// token; the reads and searches (authenticated, answered 200 or
		// 400, changing nothing) are not.
		recs := e.auditOf("acme", since)
		Expect(tally(recs)).To(Equal(writes))
		for _, r := range recs {
			Expect(r.Actor).To(HavePrefix("current:"))
		}
		// The tables are still there and answer.
		resp, data := e.scim("acme", e.token("acme"), "GET", "/Users", nil, nil)
		Expect(resp.StatusCode).To(Equal(200))
		_, total := listIDs(data)
		Expect(total).To(Equal(1))
	})

	It("refuses ids with path traversal and odd characters", func() {
		long := strings.Repeat("a", 10000)
		ids := []string{"..", "../Groups", "..%2fGroups", "%2e%2e", "%2e%2e%2f%2e%2e%2fbeta%2fscim%2fv2%2fUsers", "..%2f..%2f..%2fbeta%2fscim%2fv2%2fUsers%2f" + e.users["beta"],
			"%00", "a%00b", e.users["acme"] + "%00", "%c3%bc", "%e2%80%ae" + e.users["acme"], "%ef%bc%8e%ef%bc%8e", "%ff%fe", long, "%2f", "%5c..%5c", "*", "%25", e.users["beta"]}
		since := time.Now()
		writes := 0 // refused writes the handlers answered (not the mux's redirects)
		unchanged(e, func() {
			for _, id := range ids {
				for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
					for _, typ := range []string{"Users", "Groups"} {
						resp, data := e.scim("acme", e.token("acme"), m, "/"+typ+"/"+id, map[string]any{"schemas": []string{userSchema}, "userName": "x"}, nil)
						what := fmt.Sprintf("%s %s/%s: %s", m, typ, id[:min(len(id), 60)], data)
						Expect(resp.StatusCode).To(BeElementOf(307, 400, 404, 405), what)
						if m != "GET" && resp.StatusCode != 307 {
							writes++
						}
						if resp.StatusCode == 307 {
							// The mux cleaned ".." into a redirect that stays
							// inside this tenant's SCIM service.
							Expect(resp.Header.Get("Location")).To(HavePrefix("/t/acme/scim/v2"), what)
						}
					}
				}
			}
			// Unescaped ../ is cleaned by the mux into a redirect on the
			// app's origin; following it, acme's token is still refused
			// on beta.
			resp, _ := e.scim("acme", e.token("acme"), "DELETE", "/Users/../../../../beta/scim/v2/Users/"+e.users["beta"], nil, nil)
			Expect(resp.StatusCode).To(BeElementOf(301, 307, 308, 400, 404))
			if loc := resp.Header.Get("Location"); loc != "" {
				Expect(loc).To(HavePrefix("/t/beta/scim/v2/Users/"))
				resp, _ = e.do("DELETE", loc, e.token("acme"), nil, nil)
				Expect(resp.StatusCode).To(Equal(401))
				Expect(tally(e.auditOf("beta", since))).To(Equal(map[auditEntry]int{{"scim", "auth-refused", "User", "401", "wrong-token"}: 1}))
			}
		})
		// One record per refused write, its target the endpoint's type and
		// the id as sent, control characters escaped (%00, %0D), at most
		// 128 bytes; no record for a read.
		recs := e.auditOf("acme", since)
		Expect(recs).To(HaveLen(writes))
		for _, r := range recs {
			Expect(r.Action).To(BeElementOf("replace", "patch", "delete"))
			Expect(r.Outcome).To(BeElementOf("400", "404", "405"))
			Expect(r.Target).To(MatchRegexp(`^(User|Group)(/[^\x00-\x1f\x7f]{1,128})?$`))
		}
	})

	It("never carries injected lines in a response header", func() {
		since := time.Now()
		inj := "%0d%0aSet-Cookie:%20evil=1%0d%0aX-Injected:%201"
		targets := []string{
			"/t/acme/scim/v2/Users/x" + inj, "/t/acme/scim/v2/Users?filter=" + inj, "/t/acme/login?return_to=" + inj,
			"/t/acme" + inj + "/login", "/t/acme/admin/login?token=" + inj, "/t/acme/admin/test-sign-in?id=" + inj,
			"/t/" + inj + "/scim/v2/Users", "/conform" + inj, "/t/acme/scim/v2/Users/%2e%2e/" + inj,
		}
		check := func(resp *http.Response, what string) {
			GinkgoHelper()
			Expect(resp.Header).NotTo(HaveKey("X-Injected"), what)
			for _, c := range resp.Header.Values("Set-Cookie") {
				Expect(c).NotTo(ContainSubstring("evil"), what)
			}
			for k, vs := range resp.Header {
				for _, v := range vs {
					Expect(v).NotTo(MatchRegexp(`[\r\n]`), what+" "+k)
				}
			}
		}
		unchanged(e, func() {
			for _, t := range targets {
				for _, m := range []string{"GET", "POST"} {
					resp, _ := e.do(m, t, e.token("acme"), nil, http.Header{"Origin": {e.url}})
					check(resp, m+" "+t)
				}
			}
		})
		// A created resource's Location and ETag from input with CRLF.
		resp, data := e.scim("acme", e.token("acme"), "POST", "/Users", map[string]any{"schemas": []string{userSchema},
			"userName": "crlf\r\nX-Injected: 1", "externalId": "x\r\nSet-Cookie: evil=1", "id": "id\r\nX-Injected: 1"}, nil)
		check(resp, "POST /Users")
		if resp.StatusCode == 201 {
			var u struct{ ID string }
			Expect(json.Unmarshal(data, &u)).To(Succeed())
			Expect(resp.Header.Get("Location")).To(Equal(e.url + "/t/acme/scim/v2/Users/" + u.ID))
			r, _ := e.scim("acme", e.token("acme"), "DELETE", "/Users/"+u.ID, nil, nil)
			Expect(r.StatusCode).To(Equal(204))
			got := tally(e.auditOf("acme", since))
			Expect(got).To(HaveKeyWithValue(auditEntry{"scim", "create", "User/" + u.ID, "201", ""}, 1))
			Expect(got).To(HaveKeyWithValue(auditEntry{"scim", "delete", "User/" + u.ID, "204", ""}, 1))
		}
		// No audit field holds a CR or LF either (the injected path's id
		// is recorded escaped).
		for _, name := range tenantNames {
			for _, r := range e.auditOf(name, since) {
				for _, f := range []string{r.Kind, r.Actor, r.Source, r.Action, r.Target, string(r.Detail), r.Outcome} {
					Expect(f).NotTo(MatchRegexp(`[\r\n\x00]`), "%+v", r)
				}
			}
		}
	})

	It("redirects only to the app's origin or the configured Okta", func() {
		adminLink, err := e.tenants.AdminLink(context.Background(), "acme")
		Expect(err).NotTo(HaveOccurred())
		alu, _ := url.Parse(adminLink)
		evil := []string{"https://evil.example/", "//evil.example/", "/\\evil.example", "https:evil.example", "javascript:alert(1)", "%2F%2Fevil.example", "https://" + strings.TrimPrefix(e.url, "http://") + ".evil.example/"}
		names := []string{"return_to", "returnTo", "next", "redirect", "redirect_uri", "redirectUri", "url", "continue", "target", "RelayState", "post_logout_redirect_uri", "state", "return"}
		app, _ := url.Parse(e.url)
		okta, _ := url.Parse(e.okta.URL)
		allowed := func(loc string) {
			GinkgoHelper()
			u, err := app.Parse(loc)
			Expect(err).NotTo(HaveOccurred(), loc)
			Expect(u.Scheme+"://"+u.Host).To(BeElementOf(e.url, e.okta.URL, "http://"+okta.Host), loc)
			if u.Host == okta.Host {
				ru, _ := url.Parse(u.Query().Get("redirect_uri"))
				if ru != nil && u.Query().Has("redirect_uri") {
					Expect(ru.String()).To(Equal(e.created["acme"].RedirectURI), loc)
				}
			}
		}
		since := time.Now()
		want := map[auditEntry]int{}
		for _, n := range names {
			for _, v := range evil {
				// The wrong admin link and the callback without a state of
				// its own are refused and recorded, each.
				want[auditEntry{"admin", "admin-link", "", "refused", "invalid-link"}]++
				callback := "no-state"
				if n == "state" {
					callback = "unknown-state"
				}
				want[auditEntry{"signin", "state-refused", "", "refused", callback}]++
				q := n + "=" + url.QueryEscape(v)
				for _, rq := range []struct{ method, path string }{
					{"GET", "/t/acme/login?" + q}, {"POST", "/t/acme/logout?" + q}, {"GET", "/t/acme/me?" + q},
					{"GET", "/t/acme/admin/login?token=wrong&" + q}, {"GET", "/t/acme/admin/test-sign-in?id=x&" + q},
					{"GET", "/t/acme/admin/connect-okta?" + q}, {"GET", "/conform?" + q}, {"GET", "/t/acme/oidc/callback?code=x&" + q},
				} {
					resp, data := e.do(rq.method, rq.path, "", "", http.Header{"Origin": {e.url}, "Content-Type": {"application/x-www-form-urlencoded"}})
					if loc := resp.Header.Get("Location"); loc != "" {
						allowed(loc)
					}
					Expect(string(data)).NotTo(MatchRegexp(`(?i)(http-equiv|location\.(href|replace)|window\.location)[^<]*evil\.example`), rq.path)
				}
			}
		}
		// The admin link itself (consumed once) with a return-to.
		resp, data := e.do("GET", alu.RequestURI()+"&return_to="+url.QueryEscape("https://evil.example/"), "", nil, nil)
		Expect(resp.StatusCode).To(BeElementOf(200, 303))
		if loc := resp.Header.Get("Location"); loc != "" {
			allowed(loc)
		}
		Expect(string(data)).NotTo(ContainSubstring("evil.example"))
		want[auditEntry{"admin", "admin-link", "", "ok", ""}]++
		Expect(tally(e.auditOf("acme", since))).To(Equal(want))
		// The mux's own path-cleaning redirects.
		for _, p := range []string{"//evil.example/%2e%2e", "/t/acme/..//evil.example", "/t/acme/scim/v2/..//\\evil.example", "/./evil.example", "/t//evil.example/login"} {
			resp, _ := e.do("GET", p, "", nil, nil)
			if loc := resp.Header.Get("Location"); loc != "" {
				allowed(loc)
			}
		}
	})

	It("refuses each admin POST without the CSRF header, with a wrong one or from another site", func() {
		since := time.Now()
		c, csrf := adminSession(e)
		settings := struct{ CSRF string }{csrf}
		post := func(path, body string, hdr map[string]string) int {
			req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			return resp.StatusCode
		}
		bodies := map[string]string{
			"/t/acme/admin/api/secret": `{"graceSeconds":0}`,
			"/t/acme/admin/api/oidc":   `{"oktaDomain":"https://127.0.0.1:1","clientId":"x","clientSecret":"y"}`,
		}
		bad := []map[string]string{
			{},
			{adminapi.CSRFHeader: "wrong"},
			{adminapi.CSRFHeader: settings.CSRF + "x"},
			{adminapi.CSRFHeader: strings.ToUpper(settings.CSRF)},
			{"Origin": "https://evil.example"},
			{"Sec-Fetch-Site": "cross-site"},
		}
		want := map[auditEntry]int{{"admin", "admin-link", "", "ok", ""}: 1}
		unchanged(e, func() {
			for path, body := range bodies {
				for _, h := range bad {
					Expect(post(path, body, h)).To(Equal(http.StatusForbidden), "%s %v", path, h)
					reason := "csrf"
					if h["Origin"] != "" || h["Sec-Fetch-Site"] != "" {
						reason = "cross-site"
					}
					want[auditEntry{"admin", "admin-refused", strings.TrimPrefix(path, "/t/acme/"), "403", reason}]++
				}
			}
			// Without a session at all (a page of another site, or no
			// cookie): 401, recorded as no-session.
			for path, body := range bodies {
				req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(body))
				req.Header.Set(adminapi.CSRFHeader, csrf)
				resp, err := http.DefaultClient.Do(req)
				Expect(err).NotTo(HaveOccurred())
				resp.Body.Close()
				Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
				want[auditEntry{"admin", "admin-refused", strings.TrimPrefix(path, "/t/acme/"), "401", "no-session"}]++
			}
		})
		// Each refusal is counted; repeats of one kind from one source are
		// summarised (the first at once, then one record with the count),
		// so there are at most two rows per kind.
		recs := e.auditOf("acme", since)
		Expect(tally(recs)).To(Equal(want))
		rows := 0
		for _, r := range recs {
			if r.Action == "admin-refused" {
				rows++
				Expect(r.Actor).To(BeEmpty())
			}
		}
		Expect(rows).To(BeNumerically("<=", 2*6))
		since = time.Now()
		// The same request with the header from the app's origin works:
		// the refusals above were the CSRF checks'.
		req, _ := http.NewRequest("POST", e.url+"/t/acme/admin/api/secret", strings.NewReader(`{}`))
		req.Header.Set(adminapi.CSRFHeader, settings.CSRF)
		req.Header.Set("Origin", e.url)
		resp, err := c.Do(req)
		Expect(err).NotTo(HaveOccurred())
		var sec struct{ Token string }
		Expect(json.NewDecoder(resp.Body).Decode(&sec)).To(Succeed())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(200))
		cr := e.created["acme"]
		cr.Token = sec.Token
		e.created["acme"] = cr
		e.secrets = append(e.secrets, sec.Token)
		Expect(tally(e.auditOf("acme", since))).To(Equal(map[auditEntry]int{{"admin", "secret-rotated", "", "ok", ""}: 1}))
	})

	It("refuses an admin POST from another site even with the right CSRF header", func() {
		since := time.Now()
		c, csrf := adminSession(e)
		bodies := map[string]string{
			"/t/acme/admin/api/secret": `{"graceSeconds":0}`,
			"/t/acme/admin/api/oidc":   `{"oktaDomain":"https://127.0.0.1:1","clientId":"x","clientSecret":"y"}`,
		}
		settings := struct{ CSRF string }{csrf}
		// From another site even with the right header: a page elsewhere
		// cannot read the header's value, but the Origin alone must be
		// enough to refuse (defence in depth, as for sign-out).
		crossSite := []map[string]string{
			{adminapi.CSRFHeader: settings.CSRF, "Origin": "https://evil.example"},
			{adminapi.CSRFHeader: settings.CSRF, "Origin": "null"},
			{adminapi.CSRFHeader: settings.CSRF, "Sec-Fetch-Site": "cross-site"},
		}
		var refused []string
		unchangedOr := e.snap()
		for _, path := range []string{"/t/acme/admin/api/oidc", "/t/acme/admin/api/secret"} {
			for _, h := range crossSite {
				req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(bodies[path]))
				for k, v := range h {
					req.Header.Set(k, v)
				}
				resp, err := c.Do(req)
				Expect(err).NotTo(HaveOccurred())
				var sec struct{ Token string }
				json.NewDecoder(resp.Body).Decode(&sec)
				resp.Body.Close()
				if sec.Token != "" { // rotated: keep the suite's token current
					cr := e.created["acme"]
					cr.Token = sec.Token
					e.created["acme"] = cr
					e.secrets = append(e.secrets, sec.Token)
				}
				if resp.StatusCode != http.StatusForbidden {
					refused = append(refused, fmt.Sprintf("%s %v: %d", path, h, resp.StatusCode))
				}
			}
		}
		Expect(refused).To(BeEmpty(), "admin POSTs from another site with the right CSRF header were not refused")
		Expect(e.snap()).To(Equal(unchangedOr))
		Expect(tally(e.auditOf("acme", since))).To(Equal(map[auditEntry]int{
			{"admin", "admin-link", "", "ok", ""}:                               1,
			{"admin", "admin-refused", "admin/api/oidc", "403", "cross-site"}:   3,
			{"admin", "admin-refused", "admin/api/secret", "403", "cross-site"}: 3,
		}))
	})

	It("renews the session at sign-in (no fixation) and refuses a cross-site sign-out", func() {
		since := time.Now()
		c := newJar()
		base, _ := url.Parse(e.url + "/t/acme/")
		c.Jar.SetCookies(base, []*http.Cookie{{Name: login.SessionCookie, Value: "planted-session", Path: "/t/acme"}, {Name: login.LoginCookie, Value: "planted-login", Path: "/t/acme"}})
		adminBase, _ := url.Parse(e.url + "/t/acme/admin/")
		c.Jar.SetCookies(adminBase, []*http.Cookie{{Name: login.AdminCookie, Value: "planted-admin", Path: "/t/acme/admin"}})
		Expect(e.okta.QueueLogin(op.QueuedLogin{Login: oktaLogin})).To(Succeed())
		resp, err := c.Get(e.url + "/t/acme/login")
		Expect(err).NotTo(HaveOccurred())
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(200), "%s: %s", resp.Request.URL, page)
		Expect(resp.Request.URL.Path).To(Equal("/t/acme/me"))
		cookie := func(u *url.URL, name string) string {
			for _, ck := range c.Jar.Cookies(u) {
				if ck.Name == name {
					return ck.Value
				}
			}
			return ""
		}
		sid := cookie(base, login.SessionCookie)
		Expect(sid).NotTo(BeEmpty())
		Expect(sid).NotTo(Equal("planted-session"))
		me := func(value string) int {
			req, _ := http.NewRequest("GET", e.url+"/t/acme/me", nil)
			req.Header.Set("Accept", "application/json")
			req.AddCookie(&http.Cookie{Name: login.SessionCookie, Value: value})
			resp, err := e.client.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			return resp.StatusCode
		}
		Expect(me(sid)).To(Equal(200))
		Expect(me("planted-session")).NotTo(Equal(200))
		// Admin link: the planted admin cookie is replaced.
		link, err := e.tenants.AdminLink(context.Background(), "acme")
		Expect(err).NotTo(HaveOccurred())
		resp, err = c.Get(link)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(cookie(adminBase, login.AdminCookie)).NotTo(BeElementOf("", "planted-admin"))
		// A cross-site sign-out is refused and the session lives on.
		for _, h := range []map[string]string{{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}} {
			req, _ := http.NewRequest("POST", e.url+"/t/acme/logout", nil)
			for k, v := range h {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(403))
			Expect(me(sid)).To(Equal(200))
		}
		// Sign-out ends the session on the server.
		req, _ := http.NewRequest("POST", e.url+"/t/acme/logout", nil)
		req.Header.Set("Origin", e.url)
		resp, err = c.Do(req)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(200))
		Expect(me(sid)).NotTo(Equal(200))
		// The sign-in (actor: the Okta sub, target: the SCIM user), the
		// admin link and the two cross-site sign-outs refused (the first
		// at once, the second in the summary that closes its minute) are
		// recorded.
		recs := e.auditOf("acme", since)
		Expect(tally(recs)).To(Equal(map[auditEntry]int{
			{"signin", "signed-in", "User/" + e.users["acme"], "ok", ""}: 1,
			{"admin", "admin-link", "", "ok", ""}:                        1,
			{"signin", "signout-refused", "logout", "403", "cross-site"}: 2,
		}))
	})

	It("sets every cookie Secure on an https PublicURL, and the session, admin and login cookies HttpOnly", func() {
		cfg := e.cfg
		cfg.PublicURL = "https://idp.example.test"
		h := app.New(cfg)
		tenants := app.Tenants(cfg)
		serve := func(method, target string, hdr map[string]string) *http.Response {
			req := httptest.NewRequest(method, target, nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Result()
		}
		var cookies []*http.Cookie
		cookies = append(cookies, serve("GET", "https://idp.example.test/t/acme/login", nil).Cookies()...)
		link, err := tenants.AdminLink(context.Background(), "acme")
		Expect(err).NotTo(HaveOccurred())
		cookies = append(cookies, serve("GET", link, nil).Cookies()...)
		cookies = append(cookies, serve("POST", "https://idp.example.test/t/acme/logout", map[string]string{"Origin": "https://idp.example.test"}).Cookies()...)
		names := map[string]bool{}
		for _, ck := range cookies {
			names[ck.Name] = true
			Expect(ck.Secure).To(BeTrue(), ck.Name)
			Expect(ck.HttpOnly).To(BeTrue(), ck.Name)
		}
		Expect(names).To(HaveKey(login.LoginCookie))
		Expect(names).To(HaveKey(login.AdminCookie))
		Expect(names).To(HaveKey(login.SessionCookie))
		// Behind a trusted proxy that says https, the http listener's
		// cookies are Secure too.
		resp, _ := e.do("GET", "/t/acme/login", "", nil, http.Header{"X-Forwarded-Proto": {"https"}})
		Expect(resp.Cookies()).NotTo(BeEmpty())
		for _, ck := range resp.Cookies() {
			Expect(ck.Secure).To(BeTrue(), ck.Name)
			Expect(ck.HttpOnly).To(BeTrue(), ck.Name)
		}
		Expect(resp.Header.Get("Strict-Transport-Security")).NotTo(BeEmpty())
	})

	It("refuses oversized bodies, deeply nested JSON and huge filters", func() {
		since := time.Now()
		want := map[auditEntry]int{}
		unchanged(e, func() {
			big := `{"schemas":["` + userSchema + `"],"userName":"big","x":"` + strings.Repeat("a", 20<<20) + `"}`
			resp, data := e.scim("acme", e.token("acme"), "POST", "/Users", big, nil)
			Expect(resp.StatusCode).To(BeElementOf(400, 413), string(data))
			want[auditEntry{"scim", "create", "User", strconv.Itoa(resp.StatusCode), ""}]++
			resp, data = e.scim("acme", e.token("acme"), "POST", "/Bulk", big, nil)
			Expect(resp.StatusCode).To(BeElementOf(400, 413), string(data))
			want[auditEntry{"scim", "bulk", "", strconv.Itoa(resp.StatusCode), ""}]++
			deep := `{"schemas":["` + userSchema + `"],"userName":"deep","x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
			for _, p := range []string{"/Users", "/Bulk", "/Users/.search"} {
				resp, data = e.scim("acme", e.token("acme"), "POST", p, deep, nil)
				Expect(resp.StatusCode).To(BeElementOf(400, 413), "%s: %s", p, data)
				switch p {
				case "/Users":
					want[auditEntry{"scim", "create", "User", strconv.Itoa(resp.StatusCode), ""}]++
				case "/Bulk":
					want[auditEntry{"scim", "bulk", "", strconv.Itoa(resp.StatusCode), ""}]++
				}
			}
			resp, data = e.scim("acme", e.token("acme"), "PATCH", "/Users/"+e.users["acme"], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":`+strings.Repeat(`{"a":`, 50000)+`1`+strings.Repeat("}", 50000)+`}]}`, nil)
			Expect(resp.StatusCode).To(BeElementOf(400, 413), string(data))
			want[auditEntry{"scim", "patch", "User/" + e.users["acme"], strconv.Itoa(resp.StatusCode), ""}]++
			huge := strings.Repeat(`userName eq "x" or `, 50000) + `userName eq "y"`
			resp, data = e.scim("acme", e.token("acme"), "GET", "/Users?filter="+url.QueryEscape(huge), nil, nil)
			Expect(resp.StatusCode).To(BeElementOf(400, 414, 431), string(data[:min(len(data), 200)]))
			resp, data = e.scim("acme", e.token("acme"), "POST", "/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": huge}, nil)
			Expect(resp.StatusCode).To(BeElementOf(400, 413), string(data[:min(len(data), 200)]))
			nested := strings.Repeat("(", 10000) + `userName eq "x"` + strings.Repeat(")", 10000)
			resp, _ = e.scim("acme", e.token("acme"), "GET", "/Users?filter="+url.QueryEscape(nested), nil, nil)
			Expect(resp.StatusCode).To(Equal(400))
		})
		// The refused writes are recorded, without a detail (a body that
		// is not JSON names no attribute); the searches and reads are not.
		Expect(tally(e.auditOf("acme", since))).To(Equal(want))
	})

	if once {
		It("closes a connection whose headers come too slowly (ReadHeaderTimeout)", func() {
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
			Expect(err).NotTo(HaveOccurred())
			defer conn.Close()
			start := time.Now()
			_, err = fmt.Fprintf(conn, "GET /t/acme/scim/v2/Users HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
			Expect(err).NotTo(HaveOccurred())
			conn.SetReadDeadline(time.Now().Add(13 * time.Second))
			// Keep trickling header bytes; the server must still end it.
			go func() {
				for i := 0; i < 12; i++ {
					time.Sleep(time.Second)
					if _, err := conn.Write([]byte("1")); err != nil {
						return
					}
				}
			}()
			line, _ := bufio.NewReader(conn).ReadString('\n')
			elapsed := time.Since(start)
			Expect(elapsed).To(BeNumerically("<", 12*time.Second))
			Expect(elapsed).To(BeNumerically(">=", 9*time.Second))
			Expect(line).NotTo(ContainSubstring("200"))
		})
	}

	It("compares tokens in constant time and makes the same store calls for a right and a wrong token", func() {
		src, err := os.ReadFile("../../scim/secret/secret.go")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(src)).To(MatchRegexp(`(?s)func Equal\(hash \[\]byte, s string\) bool \{.*subtle\.ConstantTimeCompare\(hash, Hash\(s\)\)`))
		wire, err := os.ReadFile("../../scim/server/wire.go")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(wire)).To(ContainSubstring("secret.Equal(hash, token)"))
		Expect(string(wire)).NotTo(MatchRegexp(`bytes\.Equal\([^)]*[Hh]ash|== *token|token *==`))
		calls := func(tenantName, token string) []string {
			e.counts.take()
			e.scim(tenantName, token, "GET", "/Users/no-such-id", nil, nil)
			var auth []string
			for _, c := range e.counts.take() {
				if c == "GetResource" {
					break
				}
				auth = append(auth, c)
			}
			return auth
		}
		since := time.Now()
		calls("beta", e.token("beta")) // warm up: the first request with a secret marks it connected
		right := calls("beta", e.token("beta"))
		Expect(right).To(Equal([]string{"GetTenant"}))
		Expect(calls("beta", e.token("acme"))).To(Equal(right))
		Expect(calls("beta", "x")).To(Equal(right))
		Expect(calls("no-such-tenant", e.token("beta"))).To(Equal(right))
		// The two wrong tokens are recorded; the right token's reads and
		// the unknown tenant are not.
		Expect(tally(e.auditOf("beta", since))).To(Equal(map[auditEntry]int{{"scim", "auth-refused", "User", "401", "wrong-token"}: 2}))
		Expect(e.auditOf("no-such-tenant", since)).To(BeEmpty())
	})

	It("answers many wrong tokens with 429, per address and per tenant, and keeps the right token working", func() {
		scimError := func(data []byte) {
			GinkgoHelper()
			Expect(string(data)).To(ContainSubstring("urn:ietf:params:scim:api:messages:2.0:Error"))
		}
		from := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }
		since := time.Now()
		statuses := map[string]map[int]int{"gamma": {}, "delta": {}} // tenant → status → answers
		unchanged(e, func() {
			limited := false
			for i := 0; i < 30 && !limited; i++ {
				resp, data := e.scim("gamma", "wrong", "GET", "/Users", nil, from("198.51.100.7"))
				statuses["gamma"][resp.StatusCode]++
				if resp.StatusCode == 429 {
					limited = true
					Expect(resp.Header.Get("Retry-After")).NotTo(BeEmpty())
					scimError(data)
				} else {
					Expect(resp.StatusCode).To(Equal(401))
				}
			}
			Expect(limited).To(BeTrue(), "no 429 after 30 wrong tokens from one address")
			// The address keeps flooding: refused before its token is read.
			for range 200 {
				resp, _ := e.scim("gamma", "wrong", "GET", "/Users", nil, from("198.51.100.7"))
				statuses["gamma"][resp.StatusCode]++
			}
			resp, _ := e.scim("gamma", e.token("gamma"), "GET", "/Users", nil, from("198.51.100.8"))
			Expect(resp.StatusCode).To(Equal(200))
			// The tenant's budget: wrong tokens from many addresses.
			limited = false
			for i := 0; i < 150 && !limited; i++ {
				resp, data := e.scim("delta", "wrong", "GET", "/Users", nil, from(fmt.Sprintf("203.0.113.%d", i%200+1)))
				statuses["delta"][resp.StatusCode]++
				if resp.StatusCode == 429 {
					limited = true
					Expect(resp.Header.Get("Retry-After")).NotTo(BeEmpty())
					scimError(data)
				}
			}
			Expect(limited).To(BeTrue(), "no 429 after 150 wrong tokens for one tenant")
			resp, _ = e.scim("delta", e.token("delta"), "GET", "/Users", nil, from("192.0.2.9"))
			Expect(resp.StatusCode).To(Equal(200))
		})
		// Each 401 is a record; the 429s are counted into rate-limited
		// summaries: the first at once, then one record with the count,
		// so a flood of 200 writes two rows, not 200.
		for _, name := range []string{"gamma", "delta"} {
			recs := e.auditOf(name, since)
			want := map[auditEntry]int{{"scim", "auth-refused", "User", "401", "wrong-token"}: statuses[name][401],
				{"scim", "rate-limited", "User", "429", ""}: statuses[name][429]}
			Expect(tally(recs)).To(Equal(want), name)
			rows := 0
			for _, r := range recs {
				if r.Action == "rate-limited" {
					rows++
				}
			}
			Expect(rows).To(BeNumerically("<=", 2), name)
		}
		Expect(statuses["gamma"][429]).To(BeNumerically(">", 150))
	})

	It("keeps identifiers only in the audit trail: no token, password, CSRF value, userName or email", func() {
		var all []store.AuditRecord
		for _, name := range tenantNames {
			all = append(all, e.auditOf(name, time.Time{})...)
		}
		Expect(len(all)).To(BeNumerically(">", 500))
		raw, err := json.Marshal(all)
		Expect(err).NotTo(HaveOccurred())
		forbidden := append([]string{oktaPassword, oktaLogin, "example.com", "mallory", "crlf", "Sam"}, e.secrets...)
		for _, name := range tenantNames {
			forbidden = append(forbidden, name+".user", "ext-"+name)
		}
		for _, s := range forbidden {
			if u, err := url.Parse(s); err == nil && u.Query().Get("token") != "" {
				s = u.Query().Get("token") // an admin link: its one-time token
			}
			Expect(string(raw)).NotTo(ContainSubstring(s))
		}
	})
}

// adminSession opens an admin session on acme through a one-time admin
// link and returns its client and CSRF value.
func adminSession(e *env) (*http.Client, string) {
	GinkgoHelper()
	c := newJar()
	link, err := e.tenants.AdminLink(context.Background(), "acme")
	Expect(err).NotTo(HaveOccurred())
	resp, err := c.Get(link)
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(200))
	resp, err = c.Get(e.url + "/t/acme/admin/api/settings")
	Expect(err).NotTo(HaveOccurred())
	var settings struct{ CSRF string }
	Expect(json.NewDecoder(resp.Body).Decode(&settings)).To(Succeed())
	resp.Body.Close()
	Expect(settings.CSRF).NotTo(BeEmpty())
	e.secrets = append(e.secrets, link, settings.CSRF)
	return c, settings.CSRF
}
