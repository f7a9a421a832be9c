// dindweb live status: the environment page hears of each status change over a websocket
// (whichever web process made the change) and reloads its status panel at once.
//
// Markup: <div hidden data-status-socket="/ws/environments/12/status/"></div>, kept outside
// the panel (#status) so that the panel's swaps do not reopen the socket. The server sends
// {"type": "status", ...} on connecting and on every change, {"type": "gone"} once deleted.
// The panel still polls while work is under way: every second while the socket is down,
// every five seconds while it is up (a safety net for a change nobody announced).
(() => {
  "use strict";

  const { socketUrl, isRefusal, backoff, mount } = window.dindwebLive;
  const SLOW_POLL_MS = 5000;
  let live = false;
  let lastRefresh = 0;

  // The panel's hx-trigger asks this before each one-second poll.
  window.dindwebStatusPollDue = () => {
    const due = !live || Date.now() - lastRefresh >= SLOW_POLL_MS;
    if (due) lastRefresh = Date.now();
    return due;
  };

  function refreshPanel() {
    const panel = document.getElementById("status");
    lastRefresh = Date.now();
    if (panel && window.htmx) window.htmx.trigger(panel, "status-push");
  }

  function attach(root) {
    let socket = null;
    let retryTimer = null;
    let attempts = 0;

    function connect() {
      const ws = new WebSocket(socketUrl(root.dataset.statusSocket));
      socket = ws;
      ws.onopen = () => {
        attempts = 0;
        live = true;
        root.dataset.state = "live";
      };
      ws.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.type === "status" || message.type === "gone") refreshPanel();
      };
      ws.onclose = (event) => {
        if (ws !== socket) return;  // closed on purpose
        socket = null;
        live = false;
        if (event.code === 1000 || isRefusal(event.code)) {
          root.dataset.state = "closed";
          return;
        }
        root.dataset.state = "reconnecting";
        retryTimer = setTimeout(connect, backoff(attempts));
        attempts += 1;
      };
    }

    root.dataset.state = "connecting";
    connect();
    return {
      destroy() {
        clearTimeout(retryTimer);
        const ws = socket;
        socket = null;
        live = false;
        if (ws) ws.close(1000);
      },
    };
  }

  mount("[data-status-socket]", "dindwebStatusSocket", attach);
})();
