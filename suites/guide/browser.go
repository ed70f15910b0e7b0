package guide

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// browser is a cookie-keeping HTTP client that follows redirects, as a
// person's browser does.
func (p *play) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := *p.env.HTTPClient
	c.Jar = jar
	c.CheckRedirect = nil
	return &c
}

// saveSignIn does what the admin does in the Connect Okta dialog: opens the
// one-time admin link and saves the Okta domain, client id and secret. It
// returns the issuer the app read from Okta's discovery document.
func (p *play) saveSignIn(ctx context.Context, domain, clientID, clientSecret string) (string, error) {
	b := p.browser()
	page, err := fetch(ctx, b, "GET", p.created.AdminURL, nil, nil)
	if err != nil {
		return "", err
	}
	if page.status != 200 {
		return "", fmt.Errorf("the admin link answered %d: %s", page.status, textOf(page.body))
	}
	base := strings.TrimSuffix(p.created.SCIMBaseURL, "/scim/v2") + "/admin/api"
	var settings struct {
		CSRF string `json:"csrf"`
	}
	res, err := fetch(ctx, b, "GET", base+"/settings", nil, nil)
	if err != nil {
		return "", err
	}
	if res.status != 200 || json.Unmarshal(res.body, &settings) != nil || settings.CSRF == "" {
		return "", fmt.Errorf("the dialog's settings answered %d: %s", res.status, textOf(res.body))
	}
	body, _ := json.Marshal(map[string]string{"oktaDomain": domain, "clientId": clientID, "clientSecret": clientSecret, "authServer": ""})
	res, err = fetch(ctx, b, "POST", base+"/oidc", body, http.Header{"Content-Type": {"application/json"}, "X-Idpkit-Csrf": {settings.CSRF}})
	if err != nil {
		return "", err
	}
	var out struct {
		Issuer string `json:"issuer"`
		Desc   string `json:"error_description"`
	}
	json.Unmarshal(res.body, &out)
	if res.status != 200 {
		if out.Desc != "" {
			return "", fmt.Errorf("saving the sign-in settings failed: %s", out.Desc)
		}
		return "", fmt.Errorf("saving the sign-in settings answered %d: %s", res.status, textOf(res.body))
	}
	return out.Issuer, nil
}

// refusedError is a sign-in the app refused with a page for people.
type refusedError struct {
	status int
	page   string
}

func (e *refusedError) Error() string { return fmt.Sprintf("refused (%d): %s", e.status, e.page) }

// signIn goes to the app's login, fills Okta's sign-in form and follows the
// redirects back. It returns the userName the app says is signed in, or a
// *refusedError with the text of the app's refusal page.
func (p *play) signIn(ctx context.Context, username, password string) (string, error) {
	b := p.browser()
	loginURL := strings.TrimSuffix(p.created.SCIMBaseURL, "/scim/v2") + "/login"
	res, err := fetch(ctx, b, "GET", loginURL, nil, nil)
	if err != nil {
		return "", err
	}
	if res.status != 200 {
		return "", fmt.Errorf("the login page answered %d at %s: %s", res.status, res.url, textOf(res.body))
	}
	form, err := findForm(res.body, res.url)
	if err != nil {
		return "", err
	}
	if _, ok := form.labels["Username"]; !ok {
		return "", fmt.Errorf("Okta's sign-in form at %s has no field labelled Username", res.url)
	}
	form.values.Set(form.labels["Username"], username)
	form.values.Set(form.labels["Password"], password)
	res, err = fetch(ctx, b, "POST", form.action, []byte(form.values.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if err != nil {
		return "", err
	}
	if res.status != 200 {
		return "", &refusedError{status: res.status, page: textOf(res.body)}
	}
	me := strings.TrimSuffix(p.created.SCIMBaseURL, "/scim/v2") + "/me"
	if res.url.Path != mustPath(me) {
		return "", fmt.Errorf("signing in ended at %s (%d), not at the app's /me: %s", res.url, res.status, textOf(res.body))
	}
	res, err = fetch(ctx, b, "GET", me, nil, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return "", err
	}
	var who struct {
		UserName string `json:"userName"`
	}
	if res.status != 200 || json.Unmarshal(res.body, &who) != nil {
		return "", fmt.Errorf("/me answered %d: %s", res.status, textOf(res.body))
	}
	return who.UserName, nil
}

func mustPath(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	return pu.Path
}

type response struct {
	status int
	url    *url.URL
	body   []byte
}

func fetch(ctx context.Context, c *http.Client, method, u string, body []byte, h http.Header) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	return &response{status: resp.StatusCode, url: resp.Request.URL, body: data}, nil
}

type htmlForm struct {
	action string
	values url.Values
	labels map[string]string // visible label text → input name
}

// findForm reads the first form of an HTML page: its action, its inputs'
// values and which input each <label for> names.
func findForm(page []byte, base *url.URL) (*htmlForm, error) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return nil, fmt.Errorf("the sign-in page is not HTML: %w", err)
	}
	var form *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if form == nil && n.Type == html.ElementNode && n.Data == "form" {
			form = n
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if form == nil {
		return nil, errors.New("the sign-in page at " + base.String() + " has no form: " + textOf(page))
	}
	f := &htmlForm{values: url.Values{}, labels: map[string]string{}}
	action, err := base.Parse(attr(form, "action"))
	if err != nil {
		return nil, fmt.Errorf("the sign-in form's action: %w", err)
	}
	f.action = action.String()
	ids := map[string]string{} // input id → name
	labelFor := map[string]string{}
	var inputs func(*html.Node)
	inputs = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "input":
				if name := attr(n, "name"); name != "" && attr(n, "type") != "submit" {
					f.values.Set(name, attr(n, "value"))
					if id := attr(n, "id"); id != "" {
						ids[id] = name
					}
				}
			case "label":
				labelFor[strings.TrimSpace(nodeText(n))] = attr(n, "for")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			inputs(c)
		}
	}
	inputs(form)
	for text, id := range labelFor {
		if name, ok := ids[id]; ok {
			f.labels[text] = name
		}
	}
	return f, nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// textOf returns the visible text of an HTML page (or the body itself),
// squeezed to one line of at most 300 bytes.
func textOf(body []byte) string {
	s := string(body)
	if doc, err := html.Parse(bytes.NewReader(body)); err == nil && bytes.Contains(body, []byte("<")) {
		var b strings.Builder
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style" || n.Data == "head") {
				return
			}
			if n.Type == html.TextNode {
				b.WriteString(n.Data + " ")
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		s = b.String()
	}
	s = strings.Join(strings.Fields(s), " ")
	if n := 300; len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n-- // cut at a character boundary
		}
		s = s[:n] + "…"
	}
	return s
}
