package check

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func opPage(t *testing.T, status int, rawURL, body string) *opExchange {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return &opExchange{method: "GET", reqURL: u, status: status,
		header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, body: []byte(body)}
}

func TestOPLoginForm(t *testing.T) {
	type form struct {
		Action, Method, Username, Password string
		Values                             url.Values
	}
	for _, tc := range []struct {
		name    string
		page    string
		want    *form
		wantErr string
	}{
		{
			name: "the mock's page",
			page: `<!doctype html><html><body><main><h1>Sign In</h1>
<form method="post" action="/oauth2/v1/authorize">
<input type="hidden" name="client_id" value="0oa1">
<input type="hidden" name="state" value="a&amp;b">
<label for="u">Username</label><input type="text" id="okta-signin-username" name="username" value="" required>
<input type="password" id="okta-signin-password" name="password" required>
<button type="submit">Sign In</button></form></main></body></html>`,
			want: &form{Action: "https://idp.example.com/oauth2/v1/authorize", Method: "POST", Username: "username", Password: "password",
				Values: url.Values{"client_id": {"0oa1"}, "state": {"a&b"}}},
		},
		{
			name: "a search box before the login form, the username field named by its id, a checked box, relative action",
			page: `<form action="search"><input name="q"></form>
<form method="POST" action="login?x=1"><input name="remember" type="checkbox" checked>
<input name="theme" type="radio" value="dark"><input name="f1" id="login-email" type="email">
<input name="f2" type="password"><input type="submit" name="go" value="Go"></form>`,
			want: &form{Action: "https://idp.example.com/signin/login?x=1", Method: "POST", Username: "f1", Password: "f2",
				Values: url.Values{"remember": {"on"}}},
		},
		{
			name:    "a page built by a script",
			page:    `<html><head><script src="/widget.js"></script></head><body><div id="okta-sign-in"></div></body></html>`,
			wantErr: "could not find a login form at https://idp.example.com/signin/page: status 200 and no form with a password field (the sign-in page may be built by a script",
		},
		{
			name:    "a password without a username",
			page:    `<form method="post"><input type="password" name="pin"></form>`,
			wantErr: "could not find a login form at https://idp.example.com/signin/page: the form with a password field has no username field",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := opLoginForm(opPage(t, 200, "https://idp.example.com/signin/page", tc.page))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := &form{Action: f.action.String(), Method: f.method, Username: f.username, Password: f.password, Values: f.values}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOPLoginFormRedirect(t *testing.T) {
	x := opPage(t, 302, "https://idp.example.com/authorize", "")
	x.header.Set("Location", "/elsewhere")
	_, err := opLoginForm(x)
	if err == nil || !strings.Contains(err.Error(), "could not find a login form at https://idp.example.com/authorize: the provider redirected (status 302)") {
		t.Fatalf("error %v", err)
	}
}

func TestOPCallback(t *testing.T) {
	const cb = "https://rp.example.com/cb"
	redirect := func(loc string) *opExchange {
		x := opPage(t, 302, "https://idp.example.com/authorize", "")
		x.header.Set("Location", loc)
		return x
	}
	for _, tc := range []struct {
		name string
		x    *opExchange
		want url.Values
		ok   bool
	}{
		{"query", redirect(cb + "?code=c1&state=s%20t"), url.Values{"code": {"c1"}, "state": {"s t"}}, true},
		{"fragment", redirect(cb + "#code=c2&state=s"), url.Values{"code": {"c2"}, "state": {"s"}}, true},
		{"registered query kept", redirect(cb + "?tenant=a&error=login_required"), url.Values{"tenant": {"a"}, "error": {"login_required"}}, true},
		{"another path", redirect("https://rp.example.com/cb/?code=c"), nil, false},
		{"another host", redirect("https://evil.example.com/cb?code=c"), nil, false},
		{"form_post", opPage(t, 200, "https://idp.example.com/authorize",
			`<body onload="document.forms[0].submit()"><form method="post" action="https://rp.example.com/cb">
<input type="hidden" name="code" value="c3"><input type="hidden" name="state" value="s"></form></body>`),
			url.Values{"code": {"c3"}, "state": {"s"}}, true},
		{"an error page", opPage(t, 400, "https://idp.example.com/authorize", "<h1>400</h1>"), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := opCallback(tc.x, cb)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOPLeaves(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		loc    string
		body   string
		want   string
	}{
		{"a redirect on the provider", 302, "/login", "", ""},
		{"a redirect away", 302, "https://rp.example.com/cb?code=x", "", "https://rp.example.com/cb?code=x"},
		{"an error page", 400, "", "<p>invalid redirect_uri</p>", ""},
		{"a login form on the provider", 200, "", `<form method="post" action="/login"><input name="u"><input type="password" name="p"></form>`, ""},
		{"a form_post away", 200, "", `<form method="post" action="https://rp.example.com/cb"><input type="hidden" name="code" value="x"></form>`, "https://rp.example.com/cb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := opPage(t, tc.status, "https://idp.example.com/authorize", tc.body)
			if tc.loc != "" {
				x.header.Set("Location", tc.loc)
			}
			got := ""
			if u := opLeaves(x); u != nil {
				got = u.String()
			}
			if got != tc.want {
				t.Errorf("opLeaves = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOPPageText(t *testing.T) {
	got := opPageText([]byte(`<html><head><style>p{color:red}</style><script>var x = "<p>";</script></head>
<body><h1>400 Bad Request</h1><p id="error-code">invalid_request</p></body></html>`))
	if want := "400 Bad Request invalid_request"; got != want {
		t.Errorf("opPageText = %q, want %q", got, want)
	}
}
