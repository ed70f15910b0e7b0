package op

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
)

// pageTemplates are the provider's HTML pages. html/template escapes every
// value; the form_post action is a registered redirect URI and is passed as
// template.URL only after the exact-match check.
const pageTemplates = `
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title>
<link rel="icon" href="data:,">
<style>
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;background:#f4f4f4;color:#1d1d21;margin:0}
main{max-width:400px;margin:60px auto;background:#fff;border:1px solid #ddd;border-radius:4px;padding:32px 40px;box-shadow:0 2px 0 rgba(175,175,175,.12)}
h1{font-size:1.25rem;font-weight:600;text-align:center;margin:0 0 24px}
label{display:block;font-weight:600;margin:16px 0 6px}
input[type=text],input[type=password]{box-sizing:border-box;width:100%;padding:8px;border:1px solid #8c8c96;border-radius:4px;font-size:1rem}
button{margin-top:24px;width:100%;padding:10px;background:#1662dd;color:#fff;border:0;border-radius:4px;font-size:1rem;cursor:pointer}
.alert{background:#fff1f0;border:1px solid #d93934;color:#a4000d;padding:10px;border-radius:4px}
.brand{text-align:center;color:#6e6e78;font-size:.85rem;margin-bottom:16px}
</style></head>{{end}}

{{define "login"}}{{template "head" "Sign In"}}
<body><main>
<div class="brand">Okta (idpkit mock)</div>
<h1>Sign In</h1>
{{if .Error}}<div class="alert" role="alert">{{.Error}}</div>{{end}}
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label for="okta-signin-username">Username</label>
<input type="text" id="okta-signin-username" name="username" value="{{.Username}}" autocomplete="username" autocapitalize="none" required autofocus>
<label for="okta-signin-password">Password</label>
<input type="password" id="okta-signin-password" name="password" autocomplete="current-password" required>
<button type="submit" id="okta-signin-submit">Sign In</button>
</form>
</main></body></html>{{end}}

{{define "form_post"}}{{template "head" "Submit This Form"}}
<body onload="document.forms[0].submit()"><main>
<form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>Your browser does not run scripts; press Continue.</p></noscript>
<button type="submit">Continue</button>
</form>
</main></body></html>{{end}}

{{define "error"}}{{template "head" "Error"}}
<body><main>
<h1>{{.Status}} {{.StatusText}}</h1>
<div class="alert" role="alert"><p id="error-code">{{.Code}}</p><p id="error-description">{{.Description}}</p></div>
</main></body></html>{{end}}

{{define "signed_out"}}{{template "head" "Signed Out"}}
<body><main>
<h1>You have been signed out</h1>
</main></body></html>{{end}}
`

func parseTemplates() (*template.Template, error) {
	t, err := template.New("op").Parse(pageTemplates)
	if err != nil {
		return nil, fmt.Errorf("op: parse templates: %w", err)
	}
	return t, nil
}

// field is one hidden form input.
type field struct{ Name, Value string }

// render executes a page into a buffer first, so a template error becomes a
// clean 500 rather than a half-written page.
func (p *Provider) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		p.log.Error("op: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if name != "form_post" {
		h.Set("X-Frame-Options", "DENY")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
