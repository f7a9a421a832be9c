// dindweb stats: an environment's CPU, memory and process count, live over a websocket,
// with a sparkline of the last minute for CPU and memory.
//
// Markup: <div class="stats-chart" data-ws-path="/ws/environments/12/stats/"></div>
// The server sends about once a second:
// {"type": "stats", "cpu_percent", "memory_bytes", "memory_limit_bytes", "pids"}.
(() => {
  "use strict";

  const { socketUrl, backoff, element, mount } = window.dindwebLive;

  const SELECTOR = ".stats-chart[data-ws-path]";
  const POINTS = 60;
  const MIB = 1024 * 1024;

  function mib(bytes) {
    return `${Math.round(bytes / MIB)} MiB`;
  }

  // Newest point at the right edge, 0 at the bottom, `max` at the top. The line takes its
  // colour from the canvas's CSS `color`, so the stylesheet decides.
  function drawSparkline(canvas, points, max) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    canvas.width = Math.round(width * ratio);  // also clears the canvas
    canvas.height = Math.round(height * ratio);
    if (width === 0) return;
    const context = canvas.getContext("2d");
    context.scale(ratio, ratio);
    context.fillStyle = context.strokeStyle = getComputedStyle(canvas).color;
    // A faint baseline shows the whole minute's width while the line is still short.
    context.globalAlpha = 0.3;
    context.fillRect(0, height - 1, width, 1);
    if (points.length < 2) return;
    const step = width / (POINTS - 1);
    const left = width - (points.length - 1) * step;
    const y = (value) => height - 1 - (Math.min(value, max) / max) * (height - 2);
    context.beginPath();
    points.forEach((value, i) => context.lineTo(left + i * step, y(value)));
    context.globalAlpha = 1;
    context.lineWidth = 1.5;
    context.stroke();
    context.lineTo(width, height);
    context.lineTo(left, height);
    context.globalAlpha = 0.15;
    context.fill();
  }

  function attach(root) {
    function metric(name, label, withChart) {
      const box = element("div", `stats-metric stats-${name}`);
      const value = element("span", "stats-value", "—");
      box.append(element("span", "stats-label", label), value);
      const canvas = withChart ? element("canvas", "stats-spark") : null;
      if (canvas) box.append(canvas);
      root.append(box);
      return { value, canvas };
    }
    const cpu = metric("cpu", "CPU", true);
    const memory = metric("memory", "Memory", true);
    const pids = metric("pids", "Processes", false);
    const cpuHistory = [];
    const memoryHistory = [];

    let socket = null;
    let attempts = 0;  // failed connections in a row, for the backoff
    let retryTimer = null;

    function show(stats) {
      cpuHistory.push(stats.cpu_percent);
      memoryHistory.push(stats.memory_bytes);
      if (cpuHistory.length > POINTS) cpuHistory.shift();
      if (memoryHistory.length > POINTS) memoryHistory.shift();

      const limit = stats.memory_limit_bytes;
      cpu.value.textContent = `${stats.cpu_percent.toFixed(1)} %`;
      memory.value.textContent = limit ? `${mib(stats.memory_bytes)} of ${mib(limit)}` : mib(stats.memory_bytes);
      pids.value.textContent = String(stats.pids);
      // Above 100 % means more than one CPU busy: the scale grows rather than clipping.
      drawSparkline(cpu.canvas, cpuHistory, Math.max(100, ...cpuHistory));
      drawSparkline(memory.canvas, memoryHistory, limit || Math.max(...memoryHistory) || 1);
    }

    // Quiet on purpose: no messages, the values just look stale (data-state) until fresh
    // ones arrive; a 44xx refusal stops retrying.
    function connect() {
      const ws = new WebSocket(socketUrl(root.dataset.wsPath));
      socket = ws;
      ws.onopen = () => {
        attempts = 0;
        root.dataset.state = "live";
      };
      ws.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.type === "stats") show(message);
      };
      ws.onclose = (event) => {
        if (ws !== socket) return;  // a socket we closed on purpose
        socket = null;
        if (event.code === 1000 || (event.code >= 4400 && event.code < 4500)) {
          root.dataset.state = "closed";
          return;
        }
        root.dataset.state = "reconnecting";
        const delay = backoff(attempts);
        attempts += 1;
        retryTimer = setTimeout(connect, delay);
      };
    }

    root.dataset.state = "connecting";
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

  mount(SELECTOR, "dindwebStats", attach);
})();
