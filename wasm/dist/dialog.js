// Starts the Connect Okta dialog (dialog.wasm, Go compiled for js/wasm).
// URLs are relative to /t/{tenant}/admin/connect-okta.
(function () {
  "use strict";
  var loading = document.getElementById("loading");
  if (loading) {
    // Hidden in the HTML so that a browser without JavaScript shows only
    // the <noscript> message, not a spinner that never ends.
    loading.hidden = false;
  }
  function fail(message) {
    if (loading) {
      loading.hidden = false;
      loading.textContent = message;
      loading.className = "loading error";
      loading.setAttribute("role", "alert");
    }
  }
  if (typeof WebAssembly !== "object" || typeof Go !== "function") {
    fail("This browser cannot run the dialog: it needs WebAssembly. Use a current browser, or idpkit tenant configure.");
    return;
  }
  var go = new Go();
  fetch("assets/dialog.wasm", { credentials: "same-origin" })
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
      return go.run(result.instance);
    })
    .catch(function (err) {
      fail("The dialog could not be loaded (" + (err && err.message ? err.message : err) + "); reload the page.");
    });
})();
