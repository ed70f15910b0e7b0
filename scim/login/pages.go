package login

import (
	"bytes"
	"html/template"
	"net/http"
)

// page is what every page for people shows: a title, one sentence saying
// what happened and what to do, and optionally a link and a sign-out button.
type page struct {
	Title    string
	Message  string
	LinkHref string
	LinkText string
	Logout   string // action of a sign-out form, when set
	Refresh  string // a same-site path the page navigates to at once, when set
	// Claims are a test sign-in's ID token claims, shown as a definition
	// list when set.
	Claims []pageClaim
	Hint   string // a line before Note, when set
	Note   string // a last line, when set
}

// pageClaim is one claim of page.Claims.
type pageClaim struct{ Name, Value string }

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · idpkit</title>
<link rel="icon" href="data:,">
{{if .Refresh}}<meta http-equiv="refresh" content="0;url={{.Refresh}}">{{end}}
<style>
body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.5}
h1{font-size:1.4rem}
a,button{font-size:1rem}
h2{font-size:1.1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dt{font-weight:600}
dd{margin:0;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Claims}}<h2>ID token claims</h2>
<dl>
{{range .Claims}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>
{{end}}</dl>{{end}}
{{if .LinkHref}}<p><a href="{{.LinkHref}}">{{.LinkText}}</a></p>{{end}}
{{if .Hint}}<p>{{.Hint}}</p>{{end}}
{{if .Note}}<p>{{.Note}}</p>{{end}}
{{if .Logout}}<form method="post" action="{{.Logout}}"><button type="submit">Sign out</button></form>{{end}}
</main>
</body>
</html>
`))

// page renders p with status; headers forbid caching, framing and referrers.
func (h *Handler) page(w http.ResponseWriter, status int, p page) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		h.log.Error("render page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	hdr.Set("X-Frame-Options", "DENY") // frame-ancestors for browsers without CSP 2
	hdr.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
