//go:build js && wasm

package main

import (
	"context"
	"errors"
	"syscall/js"

	"github.com/idpkit/idpkit/wasm/connect"
)

func main() {
	doc := js.Global().Get("document")
	loc := js.Global().Get("location")
	app := doc.Call("getElementById", "app")
	if app.IsNull() {
		return
	}
	tenant, err := connect.TenantFromPath(loc.Get("pathname").String())
	if err != nil {
		app.Set("textContent", "This page must be opened at /t/{tenant}/admin/connect-okta.")
		return
	}
	app.Set("innerHTML", connect.Markup(tenant))
	app.Call("removeAttribute", "aria-busy")

	ctx := context.Background()
	page := domPage{doc: doc}
	d := &connect.Dialog{
		API:  &connect.API{Base: connect.BaseURL(loc.Get("origin").String(), tenant)},
		Page: page,
	}

	on(page.el(connect.IDGenerateSecret), "click", func(js.Value) { go d.Generate(ctx) })
	on(page.el(connect.IDReplaceSecret), "click", func(js.Value) { go d.ReplaceSecret(ctx) })
	on(page.el(connect.IDCancelReplace), "click", func(js.Value) { go d.CancelReplace() })
	// Escape in the question before a secret is replaced cancels it.
	on(page.el(connect.IDReplaceBox), "keydown", func(e js.Value) {
		if e.Get("key").String() == "Escape" {
			e.Call("preventDefault")
			go d.CancelReplace()
		}
	})
	on(page.el(connect.IDUseSuggestion), "click", func(js.Value) { go d.UseSuggestion() })
	on(page.el(connect.IDForm), "submit", func(e js.Value) {
		e.Call("preventDefault")
		go d.Save(ctx)
	})
	for _, b := range connect.CopyButtons() {
		on(page.el(b), "click", func(js.Value) { copyField(page, d, b) })
	}
	on(page.el(connect.IDTestSignIn), "click", func(js.Value) { testSignIn(ctx, d) })
	on(page.el(connect.IDAdminGroupForm), "submit", func(e js.Value) {
		e.Call("preventDefault")
		go d.SaveAdminGroup(ctx)
	})
	on(page.el(connect.IDSignOut), "click", func(js.Value) { go d.SignOut(ctx) })

	// Activity (each second) and the audit trail (each 5 s) are polled
	// while the page is visible, and at once when it gets the focus or
	// becomes visible again.
	wake, auditWake := make(chan struct{}, 1), make(chan struct{}, 1)
	poke := func() {
		for _, c := range []chan struct{}{wake, auditWake} {
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}
	visible := func() bool { return doc.Get("visibilityState").String() == "visible" }
	on(js.Global(), "focus", func(js.Value) {
		go d.Refresh(ctx)
		poke()
	})
	on(doc, "visibilitychange", func(js.Value) {
		if visible() {
			poke()
		}
	})

	go func() {
		d.Load(ctx)
		go d.WatchAudit(ctx, visible, auditWake)
		d.Watch(ctx, visible, wake)
	}()
	select {} // keep the callbacks alive
}

// testSignIn opens the test sign-in's popup inside the click callback, as
// popup blockers allow window.open only during the click, and follows it
// from a goroutine.
func testSignIn(ctx context.Context, d *connect.Dialog) {
	if !d.CanTestSignIn() {
		return
	}
	id, err := connect.NewTestID()
	if err != nil {
		go d.PopupBlocked()
		return
	}
	// The popup opens empty, loses its opener, and only then goes to the
	// sign-in: the pages it passes through (Okta's, or an IdP Okta routes
	// to) cannot reach this tab through window.opener (reverse
	// tabnabbing), while the dialog keeps its handle to see it close.
	target := js.Global().Get("URL").New(connect.TestSignInPath(id), js.Global().Get("location").Get("href")).Call("toString")
	w := js.Global().Call("open", "", connect.TestSignInWindow, connect.TestSignInFeatures)
	if w.IsNull() || w.IsUndefined() {
		go d.PopupBlocked()
		return
	}
	w.Set("opener", js.Null())
	w.Get("location").Set("href", target)
	go d.TestSignIn(ctx, id, jsPopup{w})
}

// jsPopup is connect.Popup over a window opened by window.open.
type jsPopup struct{ w js.Value }

// Closed reports the window's closed property.
func (p jsPopup) Closed() bool { return p.w.Get("closed").Truthy() }

// on adds a listener that lives as long as the page.
func on(target js.Value, event string, f func(e js.Value)) {
	if target.IsNull() || target.IsUndefined() {
		return
	}
	target.Call("addEventListener", event, js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			f(args[0])
		} else {
			f(js.Undefined())
		}
		return nil
	}))
}

// copyField copies a read-only field with the asynchronous clipboard API,
// falling back to selecting it and execCommand("copy").
func copyField(page domPage, d *connect.Dialog, button string) {
	id, _, ok := connect.CopyTarget(button)
	if !ok {
		return
	}
	field := page.el(id)
	if field.IsNull() {
		return
	}
	text := field.Get("value").String()
	fallback := func() error {
		field.Call("focus")
		field.Call("select")
		if !page.doc.Call("execCommand", "copy").Truthy() {
			return errors.New("dialog: copy refused")
		}
		return nil
	}
	clip := js.Global().Get("navigator").Get("clipboard")
	if clip.IsUndefined() || clip.IsNull() {
		d.Copied(button, fallback())
		return
	}
	var okFn, failFn js.Func
	release := func() { okFn.Release(); failFn.Release() }
	okFn = js.FuncOf(func(js.Value, []js.Value) any {
		release()
		d.Copied(button, nil)
		return nil
	})
	failFn = js.FuncOf(func(js.Value, []js.Value) any {
		release()
		d.Copied(button, fallback())
		return nil
	})
	clip.Call("writeText", text).Call("then", okFn, failFn)
}

// domPage is connect.Page over the document.
type domPage struct{ doc js.Value }

func (p domPage) el(id string) js.Value { return p.doc.Call("getElementById", id) }

// Apply sets each property; unknown ids are skipped. PropChildren builds
// the new children with createElement and textContent, never innerHTML.
func (p domPage) Apply(sets []connect.Set) {
	for _, s := range sets {
		el := p.el(s.ID)
		if el.IsNull() {
			continue
		}
		if s.Prop == connect.PropChildren {
			nodes, _ := s.Value.([]connect.Node)
			kids := make([]any, 0, len(nodes))
			for _, n := range nodes {
				if k, ok := p.node(n); ok {
					kids = append(kids, k)
				}
			}
			el.Call("replaceChildren", kids...)
			continue
		}
		if s.Prop == connect.PropFocus {
			if s.Value == true {
				el.Call("focus")
			}
			continue
		}
		el.Set(s.Prop, js.ValueOf(s.Value))
	}
}

// node creates n; false for a tag the dialog does not use.
func (p domPage) node(n connect.Node) (js.Value, bool) {
	if n.Tag == "" {
		return p.doc.Call("createTextNode", n.Text), true
	}
	if !connect.AllowedTag(n.Tag) {
		return js.Value{}, false
	}
	el := p.doc.Call("createElement", n.Tag)
	if n.Class != "" {
		el.Set("className", n.Class)
	}
	if n.Text != "" {
		el.Set("textContent", n.Text)
	}
	if n.Tag == "a" && connect.SafeHref(n.Href) {
		el.Set("href", n.Href)
	}
	for _, c := range n.Children {
		if k, ok := p.node(c); ok {
			el.Call("appendChild", k)
		}
	}
	return el, true
}

// Value returns an input's current value, "" for unknown ids.
func (p domPage) Value(id string) string {
	el := p.el(id)
	if el.IsNull() {
		return ""
	}
	return el.Get("value").String()
}
