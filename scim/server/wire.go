package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/secret"
	"github.com/idpkit/idpkit/scim/store"
)

// MaxBody is the largest request body accepted (1 MiB); larger ones get
// 413 (RFC 7644 §3.12 lists 413 for oversized requests).
const MaxBody = 1 << 20

// ContentType is the Content-Type of every response (RFC 7644 §8.1).
const ContentType = scim.MediaType + "; charset=utf-8"

// challenge is the WWW-Authenticate challenge of RFC 6750 §3.
const challenge = `Bearer realm="idpkit"`

// unauthorized is the one 401 answer: a missing token, a wrong token and
// an unknown tenant are indistinguishable.
func unauthorized() error {
	return &scim.Error{Status: http.StatusUnauthorized, Detail: "authentication failed: send this tenant's SCIM token as Authorization: Bearer <token>"}
}

// authenticate checks the bearer token against the tenant's hash and,
// during a rotation's grace period (store.Tenant.PrevTokenExpires), the
// previous token's. found tells whether the tenant exists (also when the
// token is refused): the one store read of the tenant per request serves
// both. On success it sets r.tokenHash to the hash the token matched, so
// a request with the previous token never counts as made with the
// current secret (see markConnected).
//
// Every request makes the same two constant-time comparisons, whatever
// the tenant, token or grace period: an unknown tenant, and a previous
// token that is absent or expired, are compared against a stand-in hash
// no token has, and no result is looked at before both are made.
func (s *Server) authenticate(r *request) (t store.Tenant, found bool, err error) {
	// More than one Authorization header is refused: a proxy in front may
	// have judged another one than the first, which is what Get returns.
	hs := r.Header.Values("Authorization")
	token, ok := bearer(r.Header.Get("Authorization"))
	if len(hs) != 1 {
		ok = false
	}
	standIn := make([]byte, 32)
	t, err = s.store.GetTenant(r.Context(), r.tenant)
	hash, prev := t.TokenHash, t.PrevTokenHash
	switch {
	case errors.Is(err, store.ErrNotFound):
		hash, ok = standIn, false
	case err != nil:
		return store.Tenant{}, false, err
	default:
		found = true
	}
	if len(prev) == 0 || !s.now().Before(t.PrevTokenExpires) {
		prev = standIn
	}
	current := secret.Equal(hash, token)
	previous := secret.Equal(prev, token)
	if !ok || !(current || previous) {
		return t, found, unauthorized()
	}
	r.tokenHash = hash
	if !current {
		r.tokenHash = prev
	}
	return t, true, nil
}

// bearer returns the token of an "Authorization: Bearer <token>" header
// (the scheme is case-insensitive, RFC 6750 §2.1).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// writeError renders err as SCIM error JSON and returns the error sent.
// Errors that are not *scim.Error are logged and answered with a bare 500.
// A 429 is counted in the audit trail's rate-limited summary
// (auditTooMany).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) *scim.Error {
	var se *scim.Error
	if !errors.As(err, &se) {
		s.log.Error("scim/server: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		se = scim.Errorf(http.StatusInternalServerError, "", "internal error")
	}
	switch se.Status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", challenge)
	case http.StatusTooManyRequests:
		// Only the failure rate limiter answers 429 (tooManyFailures):
		// counted into the audit's rate-limited summary, which, unlike
		// the record of a 401, also covers a tenant not yet read.
		s.auditTooMany(r)
	}
	writeJSON(w, se.Status, capDetail(se))
	return se
}

// MaxDetail is the longest error detail sent, in bytes (1 KiB): details
// quote what the client sent, and a client that sent a megabyte does not
// need it back.
const MaxDetail = 1 << 10

// capDetail returns se with its detail cut to at most MaxDetail bytes, at
// a UTF-8 boundary, ending in "…" when it was cut. se itself is unchanged.
func capDetail(se *scim.Error) *scim.Error {
	if len(se.Detail) <= MaxDetail {
		return se
	}
	const ellipsis = "…"
	cut := MaxDetail - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(se.Detail[cut]) {
		cut--
	}
	c := *se
	c.Detail = se.Detail[:cut] + ellipsis
	return &c
}

// MaxFilterLength is the longest filter accepted, in bytes (64 KiB); a
// longer one is 400 invalidFilter. Real filters are a few hundred bytes.
const MaxFilterLength = 64 << 10

// parseQuery parses a raw query string once for the whole request. A
// query that is not valid URL encoding (a bare %, %zz, a ";" separator) is
// 400, invalidFilter when it mentions filter and invalidValue otherwise,
// so that no parameter is silently dropped (url.URL.Query drops the pairs
// it cannot parse, which turned a bad filter into an unfiltered list). A
// name or value that is not valid UTF-8 is refused the same way.
func parseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		typ := scim.TypeInvalidValue
		if strings.Contains(strings.ToLower(raw), "filter") {
			typ = scim.TypeInvalidFilter
		}
		return nil, scim.Errorf(http.StatusBadRequest, typ, "the query string is not valid URL encoding (%v); percent-encode %%, ; and other reserved characters in parameter values", err)
	}
	out := url.Values{}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		typ := scim.TypeInvalidValue
		if strings.EqualFold(k, "filter") {
			typ = scim.TypeInvalidFilter
		}
		if !utf8.ValidString(k) {
			return nil, scim.Errorf(http.StatusBadRequest, typ, "a query parameter name is not valid UTF-8")
		}
		for _, v := range q[k] {
			if !utf8.ValidString(v) {
				return nil, scim.Errorf(http.StatusBadRequest, typ, "query parameter %q is not valid UTF-8", k)
			}
		}
		// The parameters of RFC 7644 §3.4.2 are read whatever their case
		// and only once: "Filter=…" or a second filter= is never dropped
		// in favour of an unfiltered list.
		name := k
		if c, ok := queryParam(k); ok {
			name = c
			if len(q[k]) > 1 || len(out[name]) > 0 {
				return nil, scim.Errorf(http.StatusBadRequest, typ, "query parameter %q is given more than once; send it once", name)
			}
		}
		out[name] = append(out[name], q[k]...)
	}
	if f, ok := out["filter"]; ok && strings.TrimSpace(f[0]) == "" {
		return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidFilter, "the filter is empty; leave the parameter out to list everything")
	}
	return out, nil
}

// queryParam returns the RFC 7644 §3.4.2 and §3.9 query parameter that k
// names, in its canonical case.
func queryParam(k string) (string, bool) {
	for _, p := range [...]string{"filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes"} {
		if strings.EqualFold(k, p) {
			return p, true
		}
	}
	return "", false
}

// writeJSON writes v as a SCIM response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		buf.WriteString(`{"schemas":["` + scim.SchemaError + `"],"status":"500","detail":"internal error"}`)
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// MaxJSONDepth is how deeply objects and arrays may nest in a request
// body; a deeper body is 400 invalidSyntax. SCIM resources nest four
// levels at most (a PATCH of an extension's complex attribute).
const MaxJSONDepth = 32

// checkMediaType answers 415 for a request body whose Content-Type is
// neither application/scim+json nor application/json (RFC 7644 §3.8,
// §8.1). Parameters such as charset are allowed and the comparison is
// case-insensitive. A missing Content-Type is read as JSON: some clients
// send none.
func checkMediaType(r *request) error {
	ct := strings.TrimSpace(r.Header.Get("Content-Type"))
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == scim.MediaType || mt == "application/json") {
		return nil
	}
	return scim.Errorf(http.StatusUnsupportedMediaType, "", "Content-Type %q is not supported; send the body as %s or application/json", ct, scim.MediaType)
}

// readBody reads the request body and decodes it into v. The body must be
// application/scim+json or application/json (or carry no Content-Type)
// and be one JSON value nested at most MaxJSONDepth deep; a body over the
// request's limit is 413, anything that is not JSON 400 invalidSyntax.
func readBody(r *request, v any) error {
	if err := checkMediaType(r); err != nil {
		return err
	}
	data, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return scim.Errorf(http.StatusRequestEntityTooLarge, "", "request body is larger than %d bytes", tooBig.Limit)
	case err != nil:
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "cannot read the request body: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "the request body is empty; send a JSON object")
	}
	// encoding/json replaces invalid UTF-8 and lone surrogates with
	// U+FFFD; refuse them instead, so that no value is stored other than
	// as sent (RFC 8259 §8.1 requires UTF-8).
	if !utf8.Valid(data) {
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "the request body is not valid UTF-8")
	}
	if at := loneSurrogate(data); at >= 0 {
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "the request body has a \\u escape at byte %d that is half of a UTF-16 surrogate pair; send the character as UTF-8 or as a whole pair", at)
	}
	if !withinDepth(data, MaxJSONDepth) {
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "the request body nests objects and arrays deeper than %d levels", MaxJSONDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field != "" {
				return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "the request body is not valid: %s must not be a JSON %s", te.Field, te.Value)
			}
			return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "the request body must be a JSON object, not a JSON %s", te.Value)
		}
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "the request body is not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "the request body has data after the JSON value")
	}
	return nil
}

// withinDepth reports whether the objects and arrays of a JSON text nest
// at most limit deep. It scans the bytes once, before any decoding, and
// skips brackets inside strings; text that is not JSON is left to the
// decoder to refuse.
func withinDepth(data []byte, limit int) bool {
	depth, inString := 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > limit {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

// loneSurrogate returns the offset of the first \u escape in a JSON text
// that names a UTF-16 surrogate (U+D800–U+DFFF) without forming a pair
// (a high one followed at once by an escaped low one), or -1. Escaped
// backslashes are skipped, so "\\ud800" is no escape.
func loneSurrogate(data []byte) int {
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if i+1 >= len(data) || data[i+1] != 'u' {
			i++ // an escape of one character, such as \\ or \"
			continue
		}
		r, ok := hex4(data, i+2)
		switch {
		case !ok:
			i++ // malformed; the decoder refuses it
		case r >= 0xD800 && r <= 0xDBFF:
			low, ok := rune(0), i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u'
			if ok {
				low, ok = hex4(data, i+8)
			}
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return i
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return i
		default:
			i += 5
		}
	}
	return -1
}

// hex4 decodes the four hex digits at data[at:].
func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(data[at:at+4]), 16, 16)
	return rune(n), err == nil
}

// readResource reads a JSON object body.
func readResource(r *request) (scim.Resource, error) {
	var res scim.Resource
	if err := readBody(r, &res); err != nil {
		return nil, err
	}
	if res == nil {
		return nil, scim.Errorf(http.StatusBadRequest, scim.TypeInvalidSyntax, "the request body must be a JSON object, not null")
	}
	return res, nil
}
