package mockidp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A seed file is checked against the Seed types before it is decoded, so
// that a mistake is told in the seed's own words: the entry (users[2]),
// the field as the file spells it, the line, and what was meant — never a
// Go type name or a decoder's "json: unknown field". Field names must match
// exactly in both formats (encoding/json alone would take "firstname" for
// firstName; the YAML decoder would not).

// seedNode is a JSON or YAML value reduced to what the check needs.
type seedNode struct {
	kind  seedKind
	line  int
	what  string      // a scalar's kind, in words: "text", "a number", "true or false", "null"
	bool  bool        // a scalar that is a boolean in its format
	keys  []string    // an object's keys, in order
	kline []int       // the line of each key
	vals  []*seedNode // an object's values, or a list's items
}

type seedKind int

const (
	seedScalar seedKind = iota
	seedObject
	seedList
)

func (n *seedNode) describe() string {
	switch n.kind {
	case seedObject:
		return "an object"
	case seedList:
		return "a list"
	}
	return n.what
}

// seedNouns names the seed's entry types in errors ("a user has …").
var seedNouns = map[reflect.Type]string{
	reflect.TypeFor[Seed]():           "a seed",
	reflect.TypeFor[SeedUser]():       "a user",
	reflect.TypeFor[SeedGroup]():      "a group",
	reflect.TypeFor[SeedApp]():        "an app",
	reflect.TypeFor[SeedAssignment](): "an assignment",
}

// checkSeedShape checks a parsed seed file against the Seed type and
// returns every mistake, each naming its entry and line. JSON is held to
// its types (a string field takes a JSON string); YAML takes any scalar
// for text, as its decoder does.
func checkSeedShape(root *seedNode, isJSON bool) error {
	c := shapeChecker{json: isJSON}
	c.check(root, reflect.TypeFor[Seed](), "")
	return errors.Join(c.errs...)
}

type shapeChecker struct {
	json bool
	errs []error
}

// at prefixes a message with its path ("users[2]: ") when there is one and
// ends it with the line.
func at(path string, line int, msg string) error {
	if path != "" {
		msg = path + ": " + msg
	}
	if line > 0 {
		msg += fmt.Sprintf(" (line %d)", line)
	}
	return errors.New(msg)
}

// field splits a value's path into its entry and field name for an error:
// "users[2].login" is users[2] and "login"; a list item has no field name.
func field(path, msg string, line int) error {
	if strings.HasSuffix(path, "]") {
		return at(path, line, msg)
	}
	entry, name := "", path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		entry, name = path[:i], path[i+1:]
	}
	return at(entry, line, fmt.Sprintf("%q %s", name, msg))
}

func (c *shapeChecker) check(n *seedNode, t reflect.Type, path string) {
	errs := &c.errs
	if n.kind == seedScalar && n.what == "null" {
		return // absent
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.kind != seedObject {
			if path == "" {
				*errs = append(*errs, at("", n.line, "a seed is an object with the lists "+strings.Join(jsonFields(reflect.New(t).Interface()), ", ")+", not "+n.describe()))
				return
			}
			*errs = append(*errs, field(path, "must be an object with the fields "+strings.Join(jsonFields(reflect.New(t).Interface()), ", ")+", not "+n.describe(), n.line))
			return
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = t.Field(i).Type
				names = append(names, name)
			}
		}
		seen := map[string]bool{}
		for i, k := range n.keys {
			ft, ok := fields[k]
			if !ok {
				msg := fmt.Sprintf("unknown field %q", k)
				if s := suggest(k, names); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				} else {
					msg += fmt.Sprintf("; %s has %s", seedNouns[t], strings.Join(names, ", "))
				}
				*errs = append(*errs, at(path, n.kline[i], msg))
				continue
			}
			if seen[k] {
				*errs = append(*errs, at(path, n.kline[i], fmt.Sprintf("field %q appears twice", k)))
			}
			seen[k] = true
			sub := path
			if sub != "" {
				sub += "."
			}
			c.check(n.vals[i], ft, sub+k)
		}
	case reflect.Slice:
		if n.kind != seedList {
			hint := ""
			if t.Elem().Kind() == reflect.String && n.kind == seedScalar {
				hint = " (write one value as a list of one: [value])"
			}
			*errs = append(*errs, field(path, "must be a list, not "+n.describe()+hint, n.line))
			return
		}
		for i, item := range n.vals {
			c.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if n.kind != seedScalar || c.json && n.what != "text" {
			*errs = append(*errs, field(path, "must be text (a string), not "+n.describe(), n.line))
		}
	case reflect.Bool:
		if n.kind != seedScalar || !n.bool {
			*errs = append(*errs, field(path, "must be true or false, not "+n.describe(), n.line))
		}
	}
}

// suggest returns the field name closest to k: the same name in another
// case, or one at most two edits away (one for short names); "" when none is.
func suggest(k string, names []string) string {
	best, bestD := "", 3
	if len(k) <= 4 {
		bestD = 2
	}
	for _, n := range names {
		if strings.EqualFold(n, k) {
			return n
		}
		if d := editDistance(strings.ToLower(k), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, by bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// lineAt returns the 1-based line of byte offset off in b.
func lineAt(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return bytes.Count(b[:off], []byte("\n")) + 1
}

// jsonSeedNode parses JSON (already known to be one valid value) into a
// seedNode, keeping the order and line of every key.
func jsonSeedNode(b []byte) (*seedNode, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var value func() (*seedNode, error)
	value = func() (*seedNode, error) {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		// The token began after any white space following start.
		off := start
		for off < int64(len(b)) && strings.IndexByte(" \t\r\n,:", b[off]) >= 0 {
			off++
		}
		n := &seedNode{line: lineAt(b, off)}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				n.kind = seedObject
				for dec.More() {
					koff := dec.InputOffset()
					kt, err := dec.Token()
					if err != nil {
						return nil, err
					}
					for koff < int64(len(b)) && strings.IndexByte(" \t\r\n,", b[koff]) >= 0 {
						koff++
					}
					k, _ := kt.(string)
					val, err := value()
					if err != nil {
						return nil, err
					}
					n.keys, n.kline, n.vals = append(n.keys, k), append(n.kline, lineAt(b, koff)), append(n.vals, val)
				}
			case '[':
				n.kind = seedList
				for dec.More() {
					val, err := value()
					if err != nil {
						return nil, err
					}
					n.vals = append(n.vals, val)
				}
			}
			if _, err := dec.Token(); err != nil { // the closing delimiter
				return nil, err
			}
		case string:
			n.what = "text"
		case json.Number:
			n.what = "a number"
		case bool:
			n.what, n.bool = "true or false", true
		case nil:
			n.what = "null"
		}
		return n, nil
	}
	return value()
}

// maxSeedNodes bounds the values a YAML seed's aliases may stand for in
// all (a few anchors can otherwise stand for billions of values).
const maxSeedNodes = 100_000

// errAliasLoop and errTooBig are the YAML documents the check refuses
// before the decoder sees them.
var (
	errAliasLoop = errors.New("an alias (*name) refers to a value that contains it")
	errTooBig    = fmt.Errorf("the YAML's aliases (*name) stand for more than %d values in all", maxSeedNodes)
)

// yamlSeedNode turns a YAML document's node into a seedNode, following
// aliases and merge keys (<<) as the YAML decoder does.
func yamlSeedNode(doc *yaml.Node) (*seedNode, error) {
	c := yamlConverter{open: map[*yaml.Node]bool{}}
	n := c.node(doc)
	return n, c.err
}

type yamlConverter struct {
	open    map[*yaml.Node]bool // the anchors being expanded: an alias to one is a loop
	inAlias int                 // how many aliases deep the conversion is
	count   int                 // the values reached through aliases
	err     error
}

func (c *yamlConverter) node(y *yaml.Node) *seedNode {
	if c.err != nil {
		return &seedNode{what: "null"}
	}
	if c.inAlias > 0 {
		c.count++
	}
	if c.count > maxSeedNodes {
		c.err = errTooBig
		return &seedNode{what: "null"}
	}
	if y.Kind == yaml.AliasNode {
		if y.Alias == nil || c.open[y.Alias] {
			c.err = fmt.Errorf("line %d: %w", y.Line, errAliasLoop)
			return &seedNode{what: "null"}
		}
		c.inAlias++
		defer func() { c.inAlias-- }()
		return c.node(y.Alias) // an anchored node: marked open while it expands
	}
	if y.Anchor != "" {
		c.open[y] = true
		defer delete(c.open, y)
	}
	n := &seedNode{line: y.Line}
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &seedNode{what: "null"}
		}
		return c.node(y.Content[0])
	case yaml.MappingNode:
		n.kind = seedObject
		// A mapping's own keys win over merged ones (<<), wherever the
		// merge key stands, and an earlier merge source wins over a later
		// one, as the YAML decoder has it; only own keys can clash.
		have := map[string]bool{}
		for i := 0; i+1 < len(y.Content); i += 2 {
			if k := y.Content[i]; k.Tag != "!!merge" {
				have[k.Value] = true
			}
		}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Tag != "!!merge" {
				n.keys, n.kline, n.vals = append(n.keys, k.Value), append(n.kline, k.Line), append(n.vals, c.node(v))
				continue
			}
			// Each source goes through c.node as written (an alias stays
			// an alias), so merges are counted and loop-checked like any
			// other alias.
			for _, m := range yamlMergeSources(v) {
				mn := c.node(m)
				if mn.kind != seedObject {
					continue
				}
				for j, key := range mn.keys {
					if !have[key] {
						have[key] = true
						n.keys, n.kline, n.vals = append(n.keys, key), append(n.kline, mn.kline[j]), append(n.vals, mn.vals[j])
					}
				}
			}
		}
	case yaml.SequenceNode:
		n.kind = seedList
		for _, v := range y.Content {
			n.vals = append(n.vals, c.node(v))
		}
	default:
		switch y.ShortTag() {
		case "!!null":
			n.what = "null"
		case "!!bool":
			n.what, n.bool = "true or false", true
		case "!!int", "!!float":
			n.what = "a number"
		default:
			n.what = "text"
			// The YAML 1.1 words the decoder also takes for a boolean field.
			switch y.Value {
			case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF":
				n.bool = true
			}
		}
	}
	return n
}

// yamlMergeSources returns the nodes a merge key's value names: the
// entries of a sequence, or the value itself (a mapping or an alias to
// one). The YAML decoder refuses any other kind later, with its own error.
func yamlMergeSources(v *yaml.Node) []*yaml.Node {
	if v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return []*yaml.Node{v}
}

// describeJSONSyntax turns a JSON syntax error into a sentence with its line.
func describeJSONSyntax(b []byte, err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("line %d: the JSON is not valid: %s", lineAt(b, syn.Offset), syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends before its last object or list is closed (unexpected EOF)")
	}
	return fmt.Errorf("the JSON is not valid: %s", strings.TrimPrefix(err.Error(), "json: "))
}
