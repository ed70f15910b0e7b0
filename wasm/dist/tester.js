// Starts the SCIM conformance tester (tester.wasm, Go compiled for
// js/wasm). URLs are relative to the page.
(function () {
  "use strict";
  var loading = document.getElementById("loading");
  if (loading) {
    // Hidden in the HTML so that a browser without JavaScript shows only
    // the <noscript> message.
    loading.hidden = false;
  }
  function fail(message) {
    var status = document.getElementById("status");
    if (status) {
      status.textContent = message;
      status.className = "status error";
      status.setAttribute("role", "alert");
    }
  }
  if (typeof WebAssembly !== "object" || typeof Go !== "function") {
    fail("This browser cannot run the tester: it needs WebAssembly. Use a current browser, or idpkit conform --scim-url URL --token TOKEN.");
    return;
  }
  var go = new Go();
  fetch("tester.wasm", { credentials: "same-origin" })
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
      fail("The tester could not be loaded (" + (err && err.message ? err.message : err) + "); reload the page.");
    });
})();
