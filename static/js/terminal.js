// dindweb terminal: an xterm.js screen wired to a shell websocket.
//
// Markup: <div class="terminal" data-ws-path="/ws/environments/12/shell/" [data-readonly]></div>
// Binary frames carry raw terminal bytes both ways; text frames carry JSON control
// messages ({"type": "resize"} from us; "exit" and "error" from the server).
(() => {
  "use strict";

  const { socketUrl, isRefusal, backoff, mount } = window.dindwebLive;

  // xterm.js gives its own element the class "terminal" too, so the data attribute is what
  // tells our panels apart from it.
  const SELECTOR = ".terminal[data-ws-path]";
  const STATE_TEXT = {
    connecting: "connecting…",
    connected: "connected",
    reconnecting: "reconnecting…",
    closed: "closed",
  };
  // 44xx close codes are the server refusing: retrying cannot help, so say why and stop.
  const REFUSALS = {
    4403: "You are not allowed to open this shell.",
    4404: "There is nothing to open a shell in: it no longer exists.",
    4409: "The environment is not running. Start it, then reload the page.",
  };
  const encoder = new TextEncoder();

  function attach(panel) {
    const readonly = panel.hasAttribute("data-readonly");

    const bar = document.createElement("div");
    bar.className = "terminal-bar";
    const stateEl = document.createElement("span");
    stateEl.className = "terminal-state";
    bar.append(stateEl);
    if (!readonly) {
      const hint = document.createElement("span");
      hint.className = "terminal-hint";
      hint.textContent = "Ctrl+Shift+C copy · Ctrl+Shift+V paste";
      bar.append(hint);
    }
    const screen = document.createElement("div");
    screen.className = "terminal-screen";
    panel.append(bar, screen);

    // Colours come from the stylesheet (console.css), so the panel and its text agree.
    // Default DOM renderer on purpose: its rows stay readable text (`.xterm-rows`).
    const style = getComputedStyle(panel);
    const term = new Terminal({
      cursorBlink: !readonly,
      disableStdin: readonly,
      fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: {
        background: style.backgroundColor,
        foreground: style.color,
        cursor: "#93c5fd",
        selectionBackground: "#334155",
      },
    });
    const fitAddon = new FitAddon.FitAddon();
    term.loadAddon(fitAddon);
    term.open(screen);

    let socket = null;
    let attempts = 0;      // failed connections in a row, for the backoff
    let retryTimer = null;
    // "live" while a shell runs or we are getting one; "ended" once it exited or the server
    // closed normally (Enter starts a new one); "refused" after a 44xx close (nothing to do).
    let session = "live";

    function setState(state) {
      stateEl.dataset.state = state;
      stateEl.textContent = STATE_TEXT[state];
    }

    function say(text) {
      term.write(`\r\n${text}\r\n`);
    }

    function sendControl(message) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    }

    function sendSize() {
      sendControl({ type: "resize", cols: term.cols, rows: term.rows });
    }

    function sendBytes(bytes) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(bytes);
    }

    function connect() {
      clearTimeout(retryTimer);
      session = "live";
      setState(attempts ? "reconnecting" : "connecting");
      const ws = new WebSocket(socketUrl(panel.dataset.wsPath));
      ws.binaryType = "arraybuffer";
      socket = ws;

      ws.onopen = () => {
        attempts = 0;
        setState("connected");
        sendSize();
      };
      ws.onmessage = (event) => {
        if (typeof event.data !== "string") {
          // Bytes, not text: xterm's decoder keeps a UTF-8 character split across frames whole.
          term.write(new Uint8Array(event.data));
          return;
        }
        const message = JSON.parse(event.data);
        if (message.type === "exit") {
          session = "ended";
          say(readonly
            ? `[shell exited with code ${message.code}]`
            : `[shell exited with code ${message.code} — press Enter to start a new one]`);
        } else if (message.type === "error") {
          say(`\x1b[31m${message.message}\x1b[0m`);
        }
      };
      ws.onclose = (event) => {
        if (ws !== socket) return;  // an old socket we replaced on purpose
        socket = null;
        if (isRefusal(event.code)) {
          setState("closed");
          session = "refused";
          say(event.reason || REFUSALS[event.code] || "The server refused the connection.");
        } else if (session === "ended") {
          setState("closed");
        } else if (event.code === 1000) {
          setState("closed");
          session = "ended";
          say(readonly ? "[connection closed]" : "[connection closed — press Enter to reconnect]");
        } else {
          setState("reconnecting");
          const delay = backoff(attempts);
          attempts += 1;
          retryTimer = setTimeout(connect, delay);
        }
      };
    }

    if (!readonly) {
      term.onData((data) => {
        if (session === "live") {
          sendBytes(encoder.encode(data));
        } else if (session === "ended" && data === "\r") {
          if (socket) socket.close(1000);
          attempts = 0;
          connect();
        }
      });
      // Some mouse reports are raw bytes, not text: send them as they are, not UTF-8 encoded.
      term.onBinary((data) => sendBytes(Uint8Array.from(data, (c) => c.charCodeAt(0))));
      // Ctrl+C and Ctrl+V belong to the shell, so copy and paste take Shift as well,
      // as in desktop terminals. A plain browser paste (menu, Shift+Insert) works too.
      // navigator.clipboard exists only on https and localhost, and the user may deny it:
      // then these keys do nothing, and the browser's own copy and paste remain.
      term.attachCustomKeyEventHandler((event) => {
        if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey) return true;
        if (event.code === "KeyC") {
          if (term.hasSelection()) navigator.clipboard?.writeText(term.getSelection()).catch(() => {});
        } else if (event.code === "KeyV") {
          // paste() honours bracketed paste mode and ends up in onData like typing.
          navigator.clipboard?.readText().then((text) => term.paste(text), () => {});
        } else {
          return true;
        }
        event.preventDefault();  // no browser shortcut (devtools, paste as plain text)
        return false;
      });
    }

    term.onResize(sendSize);
    const refit = () => fitAddon.fit();
    // The observer makes the first fit and sees the panel resized (by layout or by its drag
    // handle); the window event also catches zooming, which changes the cell size only.
    const observer = new ResizeObserver(refit);
    observer.observe(screen);
    window.addEventListener("resize", refit);

    connect();

    return {
      term,
      socket: () => socket,
      destroy() {
        clearTimeout(retryTimer);
        observer.disconnect();
        window.removeEventListener("resize", refit);
        const ws = socket;
        socket = null;  // so its close event is not taken for a drop
        if (ws) ws.close(1000);
        term.dispose();
      },
    };
  }

  mount(SELECTOR, "dindwebTerminal", attach);
})();
