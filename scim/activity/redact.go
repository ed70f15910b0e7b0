package activity

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces a secret value in a recorded query string.
const Redacted = "REDACTED"

// sensitiveWords name query parameters whose values are secrets (an
// access_token in the query, RFC 6750 §2.3, or a password, API key or
// session someone put there); a parameter whose name, lowercased and
// without "-" and "_", contains one of them has its value replaced.
var sensitiveWords = []string{"token", "password", "passwd", "pwd", "secret", "apikey", "key", "auth", "credential", "session", "signature", "code"}

// sensitiveLiteral matches a filter comparison of an attribute named
// like a secret with a string literal (RFC 7644 §3.4.2.2 attrExp), such
// as `password eq "hunter2"`: the literal is redacted, the rest of the
// filter stays readable.
var sensitiveLiteral = regexp.MustCompile(`(?i)([A-Za-z0-9_.:$\-\[\]]*(?:password|passwd|secret|token)[A-Za-z0-9_.:$\-\[\]]*\s+(?:eq|ne|co|sw|ew|gt|ge|lt|le)\s+)"(?:[^"\\]|\\.)*"?`)

// RedactQuery returns the raw query string raw as the activity log shows
// it: the value of every parameter named like a secret (see
// sensitiveWords) is Redacted, and in a filter the string compared with
// an attribute named like a secret is Redacted too. Everything else
// stays as it was sent, encoding included.
func RedactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, v, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		switch {
		case sensitiveName(name):
			if hasValue {
				parts[i] = k + "=" + Redacted
			}
		case strings.EqualFold(name, "filter") && hasValue:
			val, err := url.QueryUnescape(v)
			if err != nil {
				// Not valid encoding: the server refuses it; keep the
				// text as sent, but no secret in it.
				if red := RedactFilter(v); red != v {
					parts[i] = k + "=" + Redacted
				}
				continue
			}
			if red := RedactFilter(val); red != val {
				parts[i] = k + "=" + strings.ReplaceAll(url.QueryEscape(red), "+", "%20")
			}
		}
	}
	return strings.Join(parts, "&")
}

// sensitiveAttr finds the names of secret attributes in a filter.
var sensitiveAttr = regexp.MustCompile(`(?i)password|passwd|secret|token`)

// redactedTail is what may follow a secret attribute's name once its
// literal is redacted: the rest of the name, then an operator and
// "REDACTED", or pr.
var redactedTail = regexp.MustCompile(`(?i)^[A-Za-z0-9_.:$\-\[\]]*\s+(?:(?:eq|ne|co|sw|ew|gt|ge|lt|le)\s+"` + Redacted + `"|pr\b)`)

// RedactFilter returns the SCIM filter f (or a text quoting one, such as
// a parse error) without the values compared with attributes named like
// secrets (password, secret, token): a string literal becomes "REDACTED";
// where the comparison is not one that can be read (an unknown operator,
// an unquoted value), the text after the attribute's name is dropped.
func RedactFilter(f string) string {
	f = sensitiveLiteral.ReplaceAllString(f, `$1"`+Redacted+`"`)
	for _, loc := range sensitiveAttr.FindAllStringIndex(f, -1) {
		if !redactedTail.MatchString(f[loc[1]:]) {
			return f[:loc[1]] + " " + Redacted
		}
	}
	return f
}

// sensitiveName reports whether a query parameter's name is one of a
// secret.
func sensitiveName(name string) bool {
	n := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(name))
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
