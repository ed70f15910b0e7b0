//go:build !js

package check

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// A fault turns idpkit's real SCIM server into a wrong one: it wraps the
// handler and changes one behaviour, the way real servers get it wrong.
type fault func(next http.Handler) http.Handler

// recorded runs r through next and returns what it answered.
func recorded(next http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	return rec
}

// replay writes rec to w with body in place of rec's body.
func replay(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// readBody reads r's body and puts it back.
func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

// withBody returns r with body b.
func withBody(r *http.Request, b []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.ContentLength = int64(len(b))
	return r2
}

// endpoint is the part of the path after /scim/v2.
func endpoint(r *http.Request) string {
	_, rest, _ := strings.Cut(r.URL.Path, "/scim/v2")
	return rest
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func scimError(w http.ResponseWriter, code int, scimType, detail string) {
	writeJSON(w, code, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": strconv.Itoa(code), "scimType": scimType, "detail": detail})
}

// patchOps decodes a PATCH body's operations.
func patchOps(b []byte) []map[string]any {
	var body struct {
		Operations []map[string]any
	}
	json.Unmarshal(b, &body)
	return body.Operations
}

func patchBody(ops []map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"schemas": []string{schemaPatchOp}, "Operations": ops})
	return b
}

var userNameEq = regexp.MustCompile(`(?i)^\s*userName\s+eq\s+"([^"]*)"\s*$`)

// caseSensitiveUserName compares userName case-sensitively: a filter finds
// only the exact case, and a POST whose userName differs from an existing
// one only in case is "created" (answered 201, not stored).
func caseSensitiveUserName(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "GET" && endpoint(r) == "/Users" && userNameEq.MatchString(r.URL.Query().Get("filter")):
			want := userNameEq.FindStringSubmatch(r.URL.Query().Get("filter"))[1]
			rec := recorded(next, r)
			var list map[string]any
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &list) != nil {
				replay(w, rec, rec.Body.Bytes())
				return
			}
			rs, _ := list["Resources"].([]any)
			kept := []any{}
			for _, u := range rs {
				if str(get(u, "userName")) == want {
					kept = append(kept, u)
				}
			}
			list["Resources"], list["totalResults"], list["itemsPerPage"] = kept, len(kept), len(kept)
			b, _ := json.Marshal(list)
			replay(w, rec, b)
		case r.Method == "POST" && endpoint(r) == "/Users":
			var body map[string]any
			b := readBody(r)
			json.Unmarshal(b, &body)
			userName := str(body["userName"])
			q := httptest.NewRequestWithContext(r.Context(), "GET", r.URL.Path+"?filter="+url.QueryEscape(`userName eq "`+userName+`"`), nil)
			q.Header.Set("Authorization", r.Header.Get("Authorization"))
			var list map[string]any
			json.Unmarshal(recorded(next, q).Body.Bytes(), &list)
			rs, _ := list["Resources"].([]any)
			for _, u := range rs {
				if got := str(get(u, "userName")); got != userName && strings.EqualFold(got, userName) {
					delete(body, "password")
					body["id"] = "fake-" + unique()
					body["meta"] = map[string]any{"resourceType": "User"}
					writeJSON(w, 201, body)
					return
				}
			}
			next.ServeHTTP(w, withBody(r, b))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// caseSensitiveOps refuses op names that are not lower case.
func caseSensitiveOps(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "PATCH" {
			for _, op := range patchOps(readBody(r)) {
				if s := str(op["op"]); s != strings.ToLower(s) {
					scimError(w, 400, "invalidValue", "unknown op "+s)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// pathlessIgnored drops PATCH operations without a path; a PATCH left with
// none answers 204 as if it had worked.
func pathlessIgnored(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "PATCH" {
			next.ServeHTTP(w, r)
			return
		}
		ops := patchOps(readBody(r))
		kept := slices.DeleteFunc(slices.Clone(ops), func(op map[string]any) bool { return op["path"] == nil && op["op"] != nil })
		if len(kept) == 0 && len(ops) > 0 {
			w.WriteHeader(204)
			return
		}
		if len(kept) == len(ops) {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, withBody(r, patchBody(kept)))
	})
}

// removeValueListEmpties treats a remove of members with a value list as a
// remove of every member.
func removeValueListEmpties(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "PATCH" || !strings.HasPrefix(endpoint(r), "/Groups/") {
			next.ServeHTTP(w, r)
			return
		}
		ops := patchOps(readBody(r))
		for _, op := range ops {
			if strings.EqualFold(str(op["op"]), "remove") && strings.EqualFold(str(op["path"]), "members") {
				delete(op, "value")
			}
		}
		next.ServeHTTP(w, withBody(r, patchBody(ops)))
	})
}

// ifMatchIgnored drops If-Match and If-None-Match, and bulk versions.
func ifMatchIgnored(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("If-Match")
		r.Header.Del("If-None-Match")
		if r.Method == "POST" && endpoint(r) == "/Bulk" {
			var body map[string]any
			if json.Unmarshal(readBody(r), &body) == nil {
				ops, _ := body["Operations"].([]any)
				for _, op := range ops {
					if m, ok := op.(map[string]any); ok {
						delete(m, "version")
					}
				}
				b, _ := json.Marshal(body)
				r = withBody(r, b)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// filterIgnored lists everything, whatever the filter.
func filterIgnored(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" {
			q := r.URL.Query()
			q.Del("filter")
			r.URL.RawQuery = q.Encode()
		}
		next.ServeHTTP(w, r)
	})
}

// anyContentType accepts a request body of any media type, as JSON.
func anyContentType(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "" {
			r.Header.Set("Content-Type", "application/scim+json")
		}
		next.ServeHTTP(w, r)
	})
}

// bulkLimitsIgnored answers a bulk request over the limits with an empty
// BulkResponse instead of 413.
func bulkLimitsIgnored(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorded(next, r)
		if rec.Code == 413 && endpoint(r) == "/Bulk" {
			writeJSON(w, 200, map[string]any{"schemas": []string{schemaBulkResponse}, "Operations": []any{}})
			return
		}
		replay(w, rec, rec.Body.Bytes())
	})
}

// failOnErrorsIgnored drops failOnErrors from bulk requests.
func failOnErrorsIgnored(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.Method == "POST" && endpoint(r) == "/Bulk" && json.Unmarshal(readBody(r), &body) == nil {
			delete(body, "failOnErrors")
			b, _ := json.Marshal(body)
			r = withBody(r, b)
		}
		next.ServeHTTP(w, r)
	})
}

// rewritePatch changes the operations of every PATCH before the server
// sees them.
func rewritePatch(f func([]map[string]any) []map[string]any) fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "PATCH" {
				if ops := patchOps(readBody(r)); len(ops) > 0 {
					if ops = f(ops); len(ops) == 0 {
						w.WriteHeader(204)
						return
					}
					r = withBody(r, patchBody(ops))
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

var valueFilter = regexp.MustCompile(`\[[^\]]*\]`)

// answerInstead answers with answer, in place of what the server
// answered, each request whose answer rec matches when.
func answerInstead(when func(r *http.Request, rec *httptest.ResponseRecorder) bool, answer func(w http.ResponseWriter)) fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := recorded(next, r)
			if when(r, rec) {
				answer(w)
				return
			}
			replay(w, rec, rec.Body.Bytes())
		})
	}
}

// countAboveMaxRefused answers 400 to a list whose count is above the
// server's maximum instead of clamping it.
var countAboveMaxRefused = answerInstead(func(r *http.Request, _ *httptest.ResponseRecorder) bool {
	n, err := strconv.Atoi(r.URL.Query().Get("count"))
	return r.Method == "GET" && err == nil && n > 1000
}, func(w http.ResponseWriter) { scimError(w, 400, "invalidValue", "count is above 1000") })

// noContent answers 204 with no body.
func noContent(w http.ResponseWriter) { w.WriteHeader(204) }

// patchErrorsSwallowed answers 204 to every PATCH the server refuses.
var patchErrorsSwallowed = answerInstead(func(r *http.Request, rec *httptest.ResponseRecorder) bool {
	return r.Method == "PATCH" && rec.Code == 400
}, noContent)

// patchEmpty200 answers a successful PATCH with 200 and {}.
var patchEmpty200 = answerInstead(func(r *http.Request, rec *httptest.ResponseRecorder) bool {
	return r.Method == "PATCH" && rec.Code < 300
}, func(w http.ResponseWriter) { writeJSON(w, 200, map[string]any{}) })

// noTargetSwallowed answers 204 where the server says noTarget.
var noTargetSwallowed = answerInstead(func(_ *http.Request, rec *httptest.ResponseRecorder) bool {
	return rec.Code == 400 && strings.Contains(rec.Body.String(), `"noTarget"`)
}, noContent)

// rewriteJSON changes every JSON object answer of GET requests.
func rewriteJSON(f func(r *http.Request, body map[string]any)) fault {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := recorded(next, r)
			var body map[string]any
			if r.Method != "GET" || rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
				replay(w, rec, rec.Body.Bytes())
				return
			}
			f(r, body)
			b, _ := json.Marshal(body)
			replay(w, rec, b)
		})
	}
}

var allPrimary = rewriteJSON(func(_ *http.Request, u map[string]any) {
	emails, _ := u["emails"].([]any)
	for _, e := range emails {
		if m, ok := e.(map[string]any); ok {
			m["primary"] = true
		}
	}
})

var emptyWithoutResources = rewriteJSON(func(_ *http.Request, l map[string]any) {
	if rs, ok := l["Resources"].([]any); ok && len(rs) == 0 {
		delete(l, "Resources")
	}
})

var bulkHidden = rewriteJSON(func(r *http.Request, c map[string]any) {
	if endpoint(r) == "/ServiceProviderConfig" {
		c["bulk"] = map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0}
	}
})

// unstableOrder reverses every other list.
func unstableOrder() fault {
	var n atomic.Int64
	return rewriteJSON(func(_ *http.Request, l map[string]any) {
		if rs, ok := l["Resources"].([]any); ok && n.Add(1)%2 == 0 {
			slices.Reverse(rs)
		}
	})
}

// putUnknownRefused refuses a PUT that carries an attribute outside the
// core User schema's usual names.
func putUnknownRefused(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.Method == "PUT" && json.Unmarshal(readBody(r), &body) == nil {
			for k := range body {
				if strings.HasPrefix(k, "ms") {
					scimError(w, 400, "invalidSyntax", "unknown attribute "+k)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// putMerges treats PUT as a merge: attributes the body leaves out keep
// their stored values, a common mistake of servers that map PUT onto an
// update.
func putMerges(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.Method != "PUT" || json.Unmarshal(readBody(r), &body) != nil {
			next.ServeHTTP(w, r)
			return
		}
		q := httptest.NewRequestWithContext(r.Context(), "GET", r.URL.Path, nil)
		q.Header.Set("Authorization", r.Header.Get("Authorization"))
		var stored map[string]any
		json.Unmarshal(recorded(next, q).Body.Bytes(), &stored)
		for k, v := range stored {
			if _, ok := body[k]; !ok && k != "meta" && k != "groups" {
				body[k] = v
			}
		}
		b, _ := json.Marshal(body)
		next.ServeHTTP(w, withBody(r, b))
	})
}

// bulkIDsDropped removes members that name a bulkId.
func bulkIDsDropped(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.Method == "POST" && endpoint(r) == "/Bulk" && json.Unmarshal(readBody(r), &body) == nil {
			ops, _ := body["Operations"].([]any)
			for _, op := range ops {
				if ms, ok := get(op, "data.members").([]any); ok {
					asMap(get(op, "data"))["members"] = slices.DeleteFunc(ms, func(m any) bool { return strings.HasPrefix(str(get(m, "value")), "bulkId:") })
				}
			}
			b, _ := json.Marshal(body)
			r = withBody(r, b)
		}
		next.ServeHTTP(w, r)
	})
}

// textPlain labels every response text/plain.
func textPlain(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorded(next, r)
		rec.Header().Set("Content-Type", "text/plain; charset=utf-8")
		replay(w, rec, rec.Body.Bytes())
	})
}

// nonAtomic applies a PATCH's operations one request at a time and stops
// at the first failure, leaving the earlier ones applied.
func nonAtomic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "PATCH" {
			next.ServeHTTP(w, r)
			return
		}
		ops := patchOps(readBody(r))
		if len(ops) < 2 {
			next.ServeHTTP(w, r)
			return
		}
		var rec *httptest.ResponseRecorder
		for _, op := range ops {
			rec = recorded(next, withBody(r, patchBody([]map[string]any{op})))
			if rec.Code >= 300 {
				break
			}
		}
		replay(w, rec, rec.Body.Bytes())
	})
}

// passwordReturned echoes a password in every single user it returns.
func passwordReturned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorded(next, r)
		var u map[string]any
		if strings.HasPrefix(endpoint(r), "/Users") && json.Unmarshal(rec.Body.Bytes(), &u) == nil && u["userName"] != nil {
			u["password"] = "P@ssw0rd"
			b, _ := json.Marshal(u)
			replay(w, rec, b)
			return
		}
		replay(w, rec, rec.Body.Bytes())
	})
}

var eqOnlyFilter = regexp.MustCompile(`(?i)^\s*(userName|externalId)\s+eq\s+"[^"]*"\s*$`)

// eqOnly supports only the filters Okta's SPEC test needs, userName eq and
// externalId eq, as many small servers do: any other filter on a list is
// 400 invalidFilter.
func eqOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := r.URL.Query().Get("filter"); r.Method == "GET" && f != "" && !eqOnlyFilter.MatchString(f) {
			scimError(w, 400, "invalidFilter", "only userName eq and externalId eq are supported")
			return
		}
		next.ServeHTTP(w, r)
	})
}
