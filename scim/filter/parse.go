package filter

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/schema"
)

// Limits that keep hostile input from exhausting the stack or the CPU.
const (
	// MaxDepth is the deepest nesting of groups, "not" and value filters.
	MaxDepth = 64
	// MaxNodes is the largest number of expressions in one filter.
	MaxNodes = 10000
)

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tLParen
	tRParen
	tLBrack
	tRBrack
)

type token struct {
	kind tokKind
	pos  int    // byte offset in the input
	end  int    // byte offset just after the token
	text string // the word as written, or the decoded string
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return "string " + literal(t.text)
	case tWord:
		return fmt.Sprintf("%q", t.text)
	case tLParen:
		return `"("`
	case tRParen:
		return `")"`
	case tLBrack:
		return `"["`
	case tRBrack:
		return `"]"`
	}
	return "token"
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == ':' || c == '$' || c == '+'
}

type parser struct {
	src     string
	toks    []token
	i       int
	depth   int
	max     int // deepest depth reached, for the value-path rewrite
	nodes   int
	errType string
	what    string // "filter" or "path", for messages
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return scim.Errorf(400, p.errType, "filter: %s at offset %d of %s %s", fmt.Sprintf(format, args...), pos, p.what, excerpt(p.src, pos))
}

// excerpt quotes s, or for long input only the part around pos, so an
// error never echoes a whole hostile request.
func excerpt(s string, pos int) string {
	const span = 40
	if len(s) <= 2*span {
		return fmt.Sprintf("%q", s)
	}
	from, to := max(0, pos-span), min(len(s), pos+span)
	for from > 0 && !utf8.RuneStart(s[from]) {
		from-- // never cut a character in two
	}
	for to < len(s) && !utf8.RuneStart(s[to]) {
		to++
	}
	q := fmt.Sprintf("%q", s[from:to])
	if from > 0 {
		q = "…" + q
	}
	if to < len(s) {
		q += "…"
	}
	return q
}

func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '[' || c == ']':
			k := tLParen
			switch c {
			case ')':
				k = tRParen
			case '[':
				k = tLBrack
			case ']':
				k = tRBrack
			}
			p.toks = append(p.toks, token{kind: k, pos: i, end: i + 1})
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return p.errorf(i, "unterminated string")
			}
			v, ok := plainString(s[i+1 : j])
			if !ok {
				if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
					return p.errorf(i, "invalid string (JSON escapes only, no control characters)")
				}
			}
			p.toks = append(p.toks, token{kind: tString, pos: i, end: j + 1, text: v})
			i = j + 1
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			p.toks = append(p.toks, token{kind: tWord, pos: i, end: j, text: s[i:j]})
			i = j
		default:
			if c == ',' {
				return p.errorf(i, `unexpected ","; combine conditions with "and" or "or"`)
			}
			r, _ := utf8.DecodeRuneInString(s[i:])
			return p.errorf(i, "unexpected character %q", r)
		}
	}
	p.toks = append(p.toks, token{kind: tEOF, pos: len(s), end: len(s)})
	return nil
}

// plainString returns s when it is a JSON string body that needs no
// decoding: valid UTF-8 without escapes or control characters.
func plainString(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c < 0x20 {
			return "", false
		}
	}
	return s, utf8.ValidString(s)
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isWord(t token, w string) bool {
	return t.kind == tWord && strings.EqualFold(t.text, w)
}

func (p *parser) expect(k tokKind, what string) error {
	t := p.next()
	if t.kind != k {
		return p.errorf(t.pos, "expected %s, found %s", what, t.describe())
	}
	return nil
}

func (p *parser) node(pos int) error {
	p.nodes++
	if p.nodes > MaxNodes {
		return p.errorf(pos, "too many expressions (at most %d)", MaxNodes)
	}
	return nil
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > p.max {
		p.max = p.depth
	}
	if p.depth > MaxDepth {
		return p.errorf(pos, "nested too deeply (at most %d levels)", MaxDepth)
	}
	return nil
}

// Parse parses a filter (RFC 7644 §3.4.2.2). Attribute names, operators and
// the keywords and, or, not, true, false and null are case-insensitive;
// precedence is grouping, then not, and, or. Every error is a *scim.Error
// 400 invalidFilter whose detail says where parsing stopped.
func Parse(s string) (Expr, error) {
	p := &parser{src: s, errType: scim.TypeInvalidFilter, what: "filter"}
	if err := p.lex(); err != nil {
		return nil, err
	}
	if p.peek().kind == tEOF {
		return nil, p.errorf(0, "empty filter")
	}
	e, err := p.or(false)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errorf(t.pos, `expected "and", "or" or the end, found %s`, t.describe())
	}
	return e, nil
}

// ParsePath parses a PATCH path (RFC 7644 §3.5.2): attr, attr.sub,
// urn:…:attr, attr[filter] and attr[filter].sub. Errors are *scim.Error
// 400 invalidPath.
func ParsePath(s string) (Path, error) {
	p := &parser{src: s, errType: scim.TypeInvalidPath, what: "path"}
	if err := p.lex(); err != nil {
		return Path{}, err
	}
	t := p.next()
	if t.kind != tWord {
		return Path{}, p.errorf(t.pos, "expected an attribute name, found %s", t.describe())
	}
	attr, err := p.attrPath(t, false)
	if err != nil {
		return Path{}, err
	}
	path := Path{Attr: attr}
	if p.peek().kind == tLBrack {
		lb := p.next()
		if attr.Sub != "" {
			return Path{}, p.errorf(lb.pos, "a value filter must follow a multi-valued attribute, not %q", attr.String())
		}
		if err := p.enter(lb.pos); err != nil {
			return Path{}, err
		}
		f, err := p.or(true)
		if err != nil {
			return Path{}, err
		}
		if err := p.expect(tRBrack, `"]"`); err != nil {
			return Path{}, err
		}
		path.Filter = f
		if t := p.peek(); t.kind == tWord && t.pos == p.toks[p.i-1].end && strings.HasPrefix(t.text, ".") {
			p.next()
			sub := t.text[1:]
			if !validName(sub) {
				return Path{}, p.errorf(t.pos+1, "invalid sub-attribute name %q", sub)
			}
			path.Sub = sub
		}
	}
	if t := p.peek(); t.kind != tEOF {
		return Path{}, p.errorf(t.pos, "expected the end of the path, found %s", t.describe())
	}
	return path, nil
}

// validName reports whether s is an ATTRNAME of RFC 7644 §3.10
// (ALPHA *(nameChar)) or "$ref".
func validName(s string) bool {
	if s == "$ref" {
		return true
	}
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// attrPath reads an attribute path from a word; inValue forbids URNs and
// sub-attributes (names inside a value filter are sub-attributes already).
func (p *parser) attrPath(t token, inValue bool) (AttrPath, error) {
	urn, name, sub := schema.SplitPath(t.text)
	if urn != "" && (len(urn) <= 4 || strings.HasSuffix(urn, ":") || strings.Contains(urn, "::")) {
		return AttrPath{}, p.errorf(t.pos, "invalid schema URN in %q", t.text)
	}
	if !validName(name) {
		return AttrPath{}, p.errorf(t.pos, "invalid attribute name %q", t.text)
	}
	if strings.Contains(t.text[len(t.text)-len(name)-len(sub):], ".") && !validName(sub) {
		return AttrPath{}, p.errorf(t.pos, "invalid sub-attribute in %q", t.text)
	}
	if inValue && (urn != "" || sub != "") {
		return AttrPath{}, p.errorf(t.pos, "inside a value filter use a plain sub-attribute name, not %q", t.text)
	}
	return AttrPath{URN: urn, Name: name, Sub: sub}, nil
}

func (p *parser) or(inValue bool) (Expr, error) {
	left, err := p.and(inValue)
	if err != nil {
		return nil, err
	}
	for p.isWord(p.peek(), "or") {
		t := p.next()
		if err := p.node(t.pos); err != nil {
			return nil, err
		}
		right, err := p.and(inValue)
		if err != nil {
			return nil, err
		}
		left = &Or{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) and(inValue bool) (Expr, error) {
	left, err := p.unary(inValue)
	if err != nil {
		return nil, err
	}
	for p.isWord(p.peek(), "and") {
		t := p.next()
		if err := p.node(t.pos); err != nil {
			return nil, err
		}
		right, err := p.unary(inValue)
		if err != nil {
			return nil, err
		}
		left = &And{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) unary(inValue bool) (Expr, error) {
	t := p.next()
	if err := p.node(t.pos); err != nil {
		return nil, err
	}
	switch {
	case t.kind == tLParen:
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		e, err := p.or(inValue)
		if err != nil {
			return nil, err
		}
		if err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		p.depth--
		return e, nil
	case p.isWord(t, "not") && p.peek().kind == tLParen:
		lp := p.next()
		if err := p.enter(lp.pos); err != nil {
			return nil, err
		}
		e, err := p.or(inValue)
		if err != nil {
			return nil, err
		}
		if err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		p.depth--
		return &Not{X: e}, nil
	case t.kind == tWord:
		attr, err := p.attrPath(t, inValue)
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tLBrack {
			return p.operation(attr)
		}
		lb := p.next()
		if inValue {
			return nil, p.errorf(lb.pos, "value filters cannot be nested")
		}
		if attr.Sub != "" {
			return nil, p.errorf(lb.pos, "a value filter must follow a multi-valued attribute, not %q", attr.String())
		}
		if err := p.enter(lb.pos); err != nil {
			return nil, err
		}
		saved := p.max
		p.max = p.depth
		inner, err := p.or(true)
		if err != nil {
			return nil, err
		}
		if err := p.expect(tRBrack, `"]"`); err != nil {
			return nil, err
		}
		innerMax := p.max
		p.max = max(saved, innerMax)
		p.depth--
		vp := &ValuePath{Attr: attr, Filter: inner}
		if s := p.peek(); s.kind == tWord && s.pos == p.toks[p.i-1].end && strings.HasPrefix(s.text, ".") {
			// emails[type eq "work"].value eq "x" ≡ emails[type eq "work" and value eq "x"]
			p.next()
			sub := s.text[1:]
			if !validName(sub) {
				return nil, p.errorf(s.pos+1, "invalid sub-attribute name %q", sub)
			}
			if _, isOr := inner.(*Or); isOr && innerMax+1 > MaxDepth {
				return nil, p.errorf(s.pos, "nested too deeply (at most %d levels)", MaxDepth)
			}
			op, err := p.operation(AttrPath{Name: sub})
			if err != nil {
				return nil, err
			}
			vp.Filter = &And{Left: inner, Right: op}
		}
		return vp, nil
	}
	return nil, p.errorf(t.pos, `expected an attribute name, "(" or "not", found %s`, t.describe())
}

// compareOp reports whether op is a comparison operator of RFC 7644
// §3.4.2.2, Table 3.
func compareOp(op string) bool {
	switch op {
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le":
		return true
	}
	return false
}

func (p *parser) operation(attr AttrPath) (Expr, error) {
	t := p.next()
	if t.kind != tWord {
		return nil, p.errorf(t.pos, "expected an operator after %q, found %s", attr.String(), t.describe())
	}
	op := strings.ToLower(t.text)
	if op == "pr" {
		return &Present{Attr: attr}, nil
	}
	if !compareOp(op) {
		return nil, p.errorf(t.pos, "unknown operator %q (use eq, ne, co, sw, ew, gt, ge, lt, le or pr)", t.text)
	}
	v := p.next()
	var value any
	switch {
	case v.kind == tString:
		value = v.text
	case p.isWord(v, "true"):
		value = true
	case p.isWord(v, "false"):
		value = false
	case p.isWord(v, "null"):
		value = nil
	case v.kind == tWord && v.text != "" && (v.text[0] == '-' || v.text[0] >= '0' && v.text[0] <= '9'):
		var f float64
		if err := json.Unmarshal([]byte(v.text), &f); err != nil {
			return nil, p.errorf(v.pos, "invalid number %q", v.text)
		}
		value = f
	default:
		return nil, p.errorf(v.pos, "expected a value after %q (a quoted string, a number, true, false or null), found %s", attr.String()+" "+op, v.describe())
	}
	return &Compare{Attr: attr, Op: op, Value: value}, nil
}
