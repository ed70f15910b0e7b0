// Starts a page's Go program compiled for js/wasm: the Connect Okta dialog
// (connect-okta.html) or the SCIM tester (conform.html). The <script>
// element says which: data-wasm is the program's URL (relative to the
// page), data-name what the messages call it, data-fallback what to use
// without WebAssembly. Errors are shown in #status when the page has one,
// else in #loading.
(function () {
  "use strict";
  var script = document.currentScript;
  var wasm = script.getAttribute("data-wasm");
  var name = script.getAttribute("data-name");
  var fallback = script.getAttribute("data-fallback");
  var loading = document.getElementById("loading");
  if (loading) {
    // Hidden in the HTML so that a browser without JavaScript shows only
    // the <noscript> message, not a spinner that never ends.
    loading.hidden = false;
  }
  function fail(message) {
    var status = document.getElementById("status");
    var el = status || loading;
    if (!el) {
      return;
    }
    el.hidden = false;
    el.textContent = message;
    el.className = status ? "status error" : "loading error";
    el.setAttribute("role", "alert");
  }
  if (typeof WebAssembly !== "object" || typeof Go !== "function") {
    fail("This browser cannot run the " + name + ": it needs WebAssembly. Use a current browser, or " + fallback + ".");
    return;
  }
  var go = new Go();
  fetch(wasm, { credentials: "same-origin" })
    .then(function (resp) {
      if (!resp.ok) {
        throw new Error("HTTP " + resp.status);
      }
      var type = (resp.headers.get("Content-Type") || "").split(";")[0].trim();
      if (WebAssembly.instantiateStreaming && type === "application/wasm") {
        return WebAssembly.instantiateStreaming(resp, go.importObject);
      }
      return resp.arrayBuffer().then(function (buf) {
        return WebAssembly.instantiate(buf, go.importObject);
      });
    })
    .then(function (result) {
      if (loading) {
        loading.hidden = true;
      }
      return go.run(result.instance);
    })
    .catch(function (err) {
      fail("The " + name + " could not be loaded (" + (err && err.message ? err.message : err) + "); reload the page.");
    });
})();
