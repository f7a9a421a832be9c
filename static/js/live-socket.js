// What dindweb's live widgets (terminal, log viewer, stats) share: websocket URLs, the
// rule for when to stop retrying, the retry delay, and mounting on htmx-swapped content.
(() => {
  "use strict";

  const MAX_BACKOFF_MS = 10000;

  // A ws:// or wss:// URL for a path of this site, with optional query parameters.
  function socketUrl(path, params = {}) {
    const url = new URL(path, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url;
  }

  // 44xx close codes are the server refusing: retrying cannot help.
  function isRefusal(code) {
    return code >= 4400 && code < 4500;
  }

  // 1 s, 2 s, 4 s ... up to 10 s between attempts.
  function backoff(attempt) {
    return Math.min(1000 * 2 ** attempt, MAX_BACKOFF_MS);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Attach a widget to every element matching `selector`, now and in content htmx swaps
  // in. `attach(element)` returns an object with destroy(), kept on element[key]. A
  // widget htmx swaps out must not keep its socket (and reconnect loop) alive; htmx also
  // "cleans up" inside hx-disable without removing anything, hence the isConnected check
  // once the swap is done.
  function mount(selector, key, attach) {
    function attachWithin(root) {
      const found = root.matches?.(selector) ? [root] : [];
      found.push(...root.querySelectorAll(selector));
      for (const node of found) {
        if (!node[key]) node[key] = attach(node);
      }
    }
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", () => attachWithin(document));
    } else {
      attachWithin(document);
    }
    document.addEventListener("htmx:load", (event) => attachWithin(event.target));
    document.addEventListener("htmx:beforeCleanupElement", (event) => {
      const node = event.target;
      if (node[key]) queueMicrotask(() => node.isConnected || node[key].destroy());
    });
  }

  window.dindwebLive = { socketUrl, isRefusal, backoff, element, mount };
})();
