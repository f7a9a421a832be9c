// dindweb log viewer: a container's log lines streamed over a websocket.
//
// Markup: <div class="log-viewer" data-ws-path="/ws/environments/12/containers/web/logs/"
//              data-download-url="/environments/12/logs/download/?container=web"></div>
// The server sends JSON text frames: "lines", "dropped", "end" and "error".
// Built to stay responsive under a flood: frames are buffered and drawn at animation frames,
// a bounded batch at a time, and the page never holds more than MAX_ROWS rows.
(() => {
  "use strict";

  const { socketUrl, isRefusal, backoff, element, mount } = window.dindwebLive;

  const SELECTOR = ".log-viewer[data-ws-path]";
  // Rows kept in the page (the oldest go), and lines held back while paused (the oldest
  // become a "skipped" row).
  const MAX_ROWS = 5000;
  // Laying out new rows is most of the cost of a frame: a bounded batch keeps frames short
  // in a flood, and the rest waits for the next frames.
  const ROWS_PER_FRAME = 1000;
  const STATUS_TEXT = {
    connecting: "connecting…",
    live: "live",
    paused: "paused",
    reconnecting: "reconnecting…",
    ended: "ended",
    closed: "closed",
  };
  // 44xx close codes are the server refusing: retrying cannot help, so say why and stop.
  const REFUSALS = {
    4403: "You are not allowed to read these logs.",
    4404: "These logs no longer exist.",
    4409: "The environment is not running.",
  };

  // Entries waiting to be drawn are the server's line objects ({stream, ts, text}) or
  // notices: {notice: "skipped", count} and {notice: "error", text}.
  function lineCount(entries) {
    let count = 0;
    for (const entry of entries) {
      if (!entry.notice) count += 1;
      else if (entry.notice === "skipped") count += entry.count;
    }
    return count;
  }

  function attach(viewer) {
    const followButton = element("button", "log-follow", "Pause");
    followButton.type = "button";
    const filterInput = element("input", "log-filter");
    filterInput.type = "search";
    filterInput.placeholder = "Filter";
    filterInput.setAttribute("aria-label", "Show only lines containing");
    const tsCheckbox = element("input");
    tsCheckbox.type = "checkbox";
    tsCheckbox.checked = true;
    const tsLabel = element("label", "check log-ts-toggle");
    tsLabel.append(tsCheckbox, "Timestamps");
    const countEl = element("span", "log-count", "0 lines");
    const statusEl = element("span", "log-status");
    const toolbar = element("div", "log-toolbar");
    toolbar.append(followButton, filterInput, tsLabel);
    if (viewer.dataset.downloadUrl) {
      const download = element("a", "log-download", "Download");
      download.href = viewer.dataset.downloadUrl;
      download.download = "";
      toolbar.append(download);
    }
    toolbar.append(countEl, statusEl);
    const body = element("div", "log-body");
    body.setAttribute("role", "log");
    body.tabIndex = 0;  // scrollable with the keyboard
    viewer.append(toolbar, body);

    let following = true;
    let connection = "connecting";  // connecting, live, reconnecting, ended or closed
    let filter = "";
    let pending = [];
    let received = 0;
    let skippedByServer = 0;  // lines the server left out for a reader that fell behind
    let frameRequested = false;
    let socket = null;
    let attempts = 0;  // failed connections in a row, for the backoff
    let retryTimer = null;
    // After the first lines, a reconnect asks for new lines only, not the tail again.
    let hadLines = false;

    function renderStatus() {
      const state = connection === "live" && !following ? "paused" : connection;
      statusEl.dataset.state = state;
      statusEl.textContent = STATUS_TEXT[state];
    }

    function matches(text) {
      return !filter || text.toLowerCase().includes(filter);
    }

    function render(entry) {
      if (entry.notice === "skipped") {
        return element("div", "log-line log-notice", `… ${entry.count} lines skipped …`);
      }
      if (entry.notice === "error") {
        return element("div", "log-line log-error", entry.text);
      }
      const row = element("div", entry.stream === "stderr" ? "log-line log-stderr" : "log-line log-stdout");
      row.append(element("span", "log-ts", entry.ts || ""), element("span", "log-text", entry.text));
      row.hidden = !matches(entry.text);
      return row;
    }

    function scheduleFlush() {
      if (!frameRequested) {
        frameRequested = true;
        requestAnimationFrame(flush);
      }
    }

    function enqueue(entries) {
      pending = pending.concat(entries);
      const excess = pending.length - MAX_ROWS;
      if (excess > 0 && following) {
        // These would only have scrolled out of the kept rows: drop them quietly.
        pending.splice(0, excess);
      } else if (excess > 0) {
        // Paused, the reader would never see them: they become one "skipped" row, which
        // takes a place in the bound so that it is still there after Follow.
        const dropped = pending.splice(0, excess + 1);
        pending.unshift({ notice: "skipped", count: lineCount(dropped) });
      }
      scheduleFlush();
    }

    function flush() {
      frameRequested = false;
      countEl.textContent = (received === 1 ? "1 line" : `${received} lines`) +
        (skippedByServer ? ` (${skippedByServer} skipped)` : "");
      if (!following || pending.length === 0) return;
      const fragment = document.createDocumentFragment();
      for (const entry of pending.splice(0, ROWS_PER_FRAME)) fragment.append(render(entry));
      body.append(fragment);
      const excess = body.childElementCount - MAX_ROWS;
      if (excess > 0) {
        // One range deletion instead of thousands of single removals.
        const oldest = document.createRange();
        oldest.setStartBefore(body.firstElementChild);
        oldest.setEndBefore(body.children[excess]);
        oldest.deleteContents();
      }
      body.scrollTop = body.scrollHeight;
      if (pending.length) scheduleFlush();
    }

    function connect() {
      clearTimeout(retryTimer);
      connection = attempts ? "reconnecting" : "connecting";
      renderStatus();
      const ws = new WebSocket(socketUrl(viewer.dataset.wsPath, { tail: hadLines ? 0 : 1000, timestamps: 1 }));
      socket = ws;

      ws.onopen = () => {
        attempts = 0;
        connection = "live";
        renderStatus();
      };
      ws.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.type === "lines") {
          hadLines = true;
          received += message.lines.length;
          enqueue(message.lines);
        } else if (message.type === "dropped") {
          skippedByServer += message.count;
          enqueue([{ notice: "skipped", count: message.count }]);
        } else if (message.type === "error") {
          enqueue([{ notice: "error", text: message.message }]);
        } else if (message.type === "end") {
          connection = "ended";
          renderStatus();
        }
      };
      ws.onclose = (event) => {
        if (ws !== socket) return;  // a socket we closed on purpose
        socket = null;
        if (connection === "ended") return;
        if (isRefusal(event.code)) {
          connection = "closed";
          enqueue([{ notice: "error", text: event.reason || REFUSALS[event.code] || "The server refused the connection." }]);
        } else if (event.code === 1000) {
          connection = "closed";
        } else {
          connection = "reconnecting";
          const delay = backoff(attempts);
          attempts += 1;
          retryTimer = setTimeout(connect, delay);
        }
        renderStatus();
      };
    }

    followButton.addEventListener("click", () => {
      following = !following;
      followButton.textContent = following ? "Pause" : "Follow";
      renderStatus();
      if (following) scheduleFlush();
    });
    filterInput.addEventListener("input", () => {
      filter = filterInput.value.toLowerCase();
      for (const text of body.querySelectorAll(".log-text")) {
        text.parentElement.hidden = !matches(text.textContent);
      }
    });
    tsCheckbox.addEventListener("change", () => {
      viewer.classList.toggle("log-hide-ts", !tsCheckbox.checked);
    });

    connect();

    return {
      socket: () => socket,
      destroy() {
        clearTimeout(retryTimer);
        const ws = socket;
        socket = null;  // so its close event is not taken for a drop
        if (ws) ws.close(1000);
      },
    };
  }

  mount(SELECTOR, "dindwebLogs", attach);
})();
