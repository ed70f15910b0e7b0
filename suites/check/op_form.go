package check

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// opForm is one HTML form of a provider's page: where it goes, what it
// sends, and, for a login form, the names of its username and password
// fields.
type opForm struct {
	action   *url.URL   // resolved against the page's URL; nil when it cannot be parsed
	method   string     // "GET" or "POST"
	values   url.Values // the values a browser would send without typing: hidden fields and other preset inputs
	username string     // the username field's name ("" when the form has none)
	password string     // the password field's name ("" when the form has none)
}

// login reports whether f asks for a password.
func (f *opForm) login() bool { return f.password != "" }

// opUserField matches the names and ids of username fields.
var opUserField = regexp.MustCompile(`(?i)user|login|email|identifier|account`)

// opForms returns the forms of an HTML page served at base.
func opForms(body []byte, base *url.URL) []*opForm {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil
	}
	var forms []*opForm
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Form {
			forms = append(forms, opReadForm(n, base))
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms
}

func opAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

// opReadForm reads one <form> element: its action and method and its
// inputs, as a browser would submit them.
func opReadForm(form *html.Node, base *url.URL) *opForm {
	f := &opForm{method: "GET", values: url.Values{}}
	if m, _ := opAttr(form, "method"); strings.EqualFold(strings.TrimSpace(m), "post") {
		f.method = "POST"
	}
	action, _ := opAttr(form, "action")
	if base != nil {
		if u, err := base.Parse(strings.TrimSpace(action)); err == nil {
			f.action = u
		}
	}
	var textFields []string // names of visible text-like inputs, in order
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Input {
			name, _ := opAttr(n, "name")
			typ, _ := opAttr(n, "type")
			typ = strings.ToLower(strings.TrimSpace(typ))
			value, _ := opAttr(n, "value")
			_, checked := opAttr(n, "checked")
			if name != "" {
				switch typ {
				case "password":
					if f.password == "" {
						f.password = name
					}
				case "submit", "button", "image", "reset", "file":
				case "checkbox", "radio":
					if checked {
						f.values.Add(name, opDefault(value, "on"))
					}
				case "", "text", "email", "tel":
					id, _ := opAttr(n, "id")
					if opUserField.MatchString(name) || opUserField.MatchString(id) {
						textFields = append([]string{name}, textFields...)
					} else {
						textFields = append(textFields, name)
					}
					if value != "" {
						f.values.Set(name, value)
					}
				default: // hidden and the rest
					f.values.Add(name, value)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	if f.password != "" && len(textFields) > 0 {
		f.username = textFields[0]
	}
	return f
}

func opDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// opLoginForm finds the login form of the page x shows: a form with a
// username and a password field. A page without one fails the check with a
// message that names the page.
func opLoginForm(x *opExchange) (*opForm, error) {
	page := opRedactURL(x.reqURL)
	if x.status >= 300 && x.status < 400 {
		return nil, opFail(x, "could not find a login form at %s: the provider redirected (status %d) instead of showing one", page, x.status)
	}
	forms := opForms(x.body, x.reqURL)
	for _, f := range forms {
		if f.login() && f.username != "" && f.action != nil {
			return f, nil
		}
	}
	for _, f := range forms {
		if f.login() {
			return nil, opFail(x, "could not find a login form at %s: the form with a password field has no username field or no usable action", page)
		}
	}
	hint := ""
	if bytes.Contains(bytes.ToLower(x.body), []byte("<script")) {
		hint = " (the sign-in page may be built by a script, such as Okta's Sign-In Widget; these checks need a plain HTML form)"
	}
	return nil, opFail(x, "could not find a login form at %s: status %d and no form with a password field%s", page, x.status, hint)
}

// opPageText is the visible text of an HTML page (scripts and styles left
// out), white space collapsed, for a failure report.
func opPageText(body []byte) string {
	z := html.NewTokenizer(bytes.NewReader(body))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.StartTagToken:
			if n, _ := z.TagName(); string(n) == "script" || string(n) == "style" {
				skip++
			}
		case html.EndTagToken:
			if n, _ := z.TagName(); (string(n) == "script" || string(n) == "style") && skip > 0 {
				skip--
			}
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
				b.WriteByte(' ')
			}
		}
	}
}
