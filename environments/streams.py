"""Live streams out of environments: shells, logs and stats, on the blocking side.

The engine's sockets block, so each stream is read by a thread of its own; these classes
are what those threads run. The websocket consumers (consumers.py) bridge them to the
event loop. Closing a stream ends the process it ran inside the environment too, so a
closed page or a dropped connection never leaves a shell behind.
"""

import secrets
import shlex
import threading
from collections import deque
from dataclasses import dataclass

from .engine import DETACH_KEYS, STDERR, Engine, EngineError

# The shell's process id goes to a file inside the container so that close() can end
# the shell's whole session: a TTY exec outlives its connection otherwise.
PID_DIR = "/tmp/.dindweb"
LOGIN_SHELL = "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi"
ANY_SHELL = "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"


def _pid_prefix(token: str) -> str:
    return f"mkdir -p {PID_DIR} && echo $$ > {PID_DIR}/{token}.pid && "


def _kill_session_script(token: str) -> str:
    """End every process of the session the recorded process leads, then forget it.

    A connection closed at once may come before the shell has written its pid: wait for
    it a little. SIGHUP first, as a closing terminal would send, then SIGKILL for what
    ignored it. Only POSIX sh built-ins, so it runs in any nested image (busybox...).
    """
    pid_file = f"{PID_DIR}/{token}.pid"
    return (f"n=0; while [ ! -s {pid_file} ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done; "
            f"[ -s {pid_file} ] || exit 0; read p < {pid_file}; "
            f"kill -HUP -$p $p 2>/dev/null; sleep 0.2; kill -KILL -$p $p 2>/dev/null; "
            f"if command -v pkill >/dev/null 2>&1; then pkill -KILL -s $p 2>/dev/null; fi; "
            f"rm -f {pid_file}; exit 0")


# A classroom seat's terminal is one tmux session (image: /etc/tmux.conf hides tmux), so the
# student, a trainer helping (a second writable client) and a trainer watching (a
# read-only client) all see the same screen, and it outlives a dropped connection.
SHARED_SESSION = "lab"
SHARED, WATCH = "shared", "watch"


def _shared_terminal(read_only: bool) -> str:
    return (f"tmux new-session -d -s {SHARED_SESSION} 2>/dev/null; "
            f"exec tmux attach-session {'-r ' if read_only else ''}-t {SHARED_SESSION}")


class ShellSession:
    """An interactive shell in an environment, or in one of its nested containers; or a
    client of the environment's shared terminal (mode SHARED or WATCH)."""

    def __init__(self, engine: Engine, container: str, nested: str | None = None, mode: str | None = None):
        self.engine, self.container, self.nested, self.mode = engine, container, nested, mode
        self.token = secrets.token_hex(8)
        self.exec_id: str | None = None
        self.stream = None
        self._closed = threading.Lock()

    def command(self) -> list[str]:
        if self.mode in (SHARED, WATCH):
            return ["sh", "-c", _pid_prefix(self.token) + _shared_terminal(self.mode == WATCH)]
        if self.nested is None:
            return ["sh", "-c", _pid_prefix(self.token) + LOGIN_SHELL]
        inner = shlex.join(["docker", "exec", "-it", f"--detach-keys={DETACH_KEYS}", self.nested, "sh", "-c",
                            _pid_prefix(self.token) + ANY_SHELL])
        return ["sh", "-c", _pid_prefix(self.token) + "exec " + inner]

    def open(self, *, cols: int = 80, rows: int = 24) -> None:
        self.exec_id, self.stream = self.engine.open_exec(
            self.container, self.command(), tty=True,
            environment={"TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)},
        )

    def read(self) -> bytes:
        return self.stream.read()

    def write(self, data: bytes) -> None:
        self.stream.send(data)

    def resize(self, *, cols: int, rows: int) -> None:
        self.engine.resize_exec(self.exec_id, rows=rows, cols=cols)

    def exit_code(self) -> int | None:
        return self.engine.exec_exit_code(self.exec_id)

    def close(self) -> None:
        """End the shell (in the nested container first, then in the environment)."""
        if not self._closed.acquire(blocking=False):
            return
        try:
            if self.nested is not None:
                self.engine.exec(self.container, ["docker", "exec", self.nested, "sh", "-c",
                                                  _kill_session_script(self.token)], timeout=10)
            self.engine.exec(self.container, ["sh", "-c", _kill_session_script(self.token)], timeout=10)
        except EngineError:
            pass  # the environment is gone or stopped: so is the shell
        finally:
            if self.stream is not None:
                self.stream.close()


@dataclass
class LogLine:
    stream: str
    ts: str
    text: str

    def as_dict(self) -> dict:
        return {"stream": self.stream, "ts": self.ts, "text": self.text}


def split_timestamp(line: str) -> tuple[str, str]:
    """Docker's --timestamps puts an RFC 3339 time and a space before each line."""
    head, space, rest = line.partition(" ")
    if space and len(head) >= 20 and head[4:5] == "-" and head[10:11] == "T":
        return head, rest
    return "", line


class LineSplitter:
    """Bytes in, whole lines out, per stream. Lines are cut on bytes before decoding, so a
    character split across two reads is decoded whole."""

    def __init__(self):
        self._partial = {"stdout": b"", "stderr": b""}

    def feed(self, stream: str, data: bytes) -> list[LogLine]:
        lines = (self._partial[stream] + data).split(b"\n")
        self._partial[stream] = lines.pop()
        return [self._line(stream, raw) for raw in lines]

    def flush(self) -> list[LogLine]:
        rest = [self._line(stream, raw) for stream, raw in self._partial.items() if raw]
        self._partial = {"stdout": b"", "stderr": b""}
        return rest

    @staticmethod
    def _line(stream: str, raw: bytes) -> LogLine:
        ts, text = split_timestamp(raw.decode("utf-8", errors="replace").rstrip("\r"))
        return LogLine(stream, ts, text)


class LogFollower:
    """Follows a log: the environment's own (its nested dockerd) or a nested container's.

    `lines()` yields batches of LogLine until the container stops or close() is called.
    """

    def __init__(self, engine: Engine, container: str, nested: str | None = None, tail: int | str = 100,
                 follow: bool = True):
        self.engine, self.container, self.nested = engine, container, nested
        self.tail, self.follow = tail, follow
        self.token = secrets.token_hex(8)
        self.stream = None
        self._closed = threading.Lock()

    def open(self) -> None:
        if self.nested is None:
            self.stream = self.engine.container_log_stream(self.container, tail=self.tail, follow=self.follow)
            return
        flags = ["--follow"] if self.follow else []
        logs = shlex.join(["docker", "logs", *flags, "--timestamps", "--tail", str(self.tail), self.nested])
        _, self.stream = self.engine.open_exec(
            self.container, ["sh", "-c", _pid_prefix(self.token) + "exec " + logs], tty=False)

    def batches(self):
        splitter = LineSplitter()
        for stream_id, data in self.stream.frames():
            lines = splitter.feed("stderr" if stream_id == STDERR else "stdout", data)
            if lines:
                yield lines
        rest = splitter.flush()
        if rest:
            yield rest

    def close(self) -> None:
        if not self._closed.acquire(blocking=False):
            return
        try:
            if self.nested is not None:
                self.engine.exec(self.container, ["sh", "-c", _kill_session_script(self.token)], timeout=10)
        except EngineError:
            pass
        finally:
            if self.stream is not None:
                self.stream.close()


class LineBuffer:
    """Lines on their way from a reader thread to a websocket, bounded.

    When the client reads slower than the container writes, the oldest lines waiting are
    dropped (and counted, so the viewer can say so) instead of the server's memory
    growing without end. The download link still has everything.
    """

    def __init__(self, limit: int = 50_000):
        self.limit = limit
        self._lines: deque[LogLine] = deque()
        self._lock = threading.Lock()
        self.dropped = 0
        self.ended = False

    def put(self, lines: list[LogLine]) -> None:
        with self._lock:
            self._lines.extend(lines)
            overflow = len(self._lines) - self.limit
            for _ in range(max(0, overflow)):
                self._lines.popleft()
            self.dropped += max(0, overflow)

    def end(self) -> None:
        with self._lock:
            self.ended = True

    def take(self, most: int) -> tuple[list[LogLine], int, bool]:
        """Up to `most` lines, the count dropped since the last take, and whether the
        stream has ended with nothing left to send."""
        with self._lock:
            count = min(most, len(self._lines))
            lines = [self._lines.popleft() for _ in range(count)]
            dropped, self.dropped = self.dropped, 0
            return lines, dropped, self.ended and not self._lines


def stats_frame(raw: dict) -> dict | None:
    """The stats frame sent to pages, from one sample of the engine's stats."""
    cpu, precpu = raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage", {}).get("total_usage", 0)
                 - precpu.get("cpu_usage", {}).get("total_usage", 0))
    system_delta = cpu.get("system_cpu_usage", 0) - precpu.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len(cpu.get("cpu_usage", {}).get("percpu_usage") or []) or 1
    if not cpu.get("system_cpu_usage"):
        return None  # the container stopped: the engine sends an empty sample
    memory = raw.get("memory_stats") or {}
    details = memory.get("stats") or {}
    # What `docker stats` shows: usage less the page cache that can be reclaimed.
    cache = details.get("total_inactive_file", details.get("inactive_file", 0))
    return {
        "type": "stats",
        "cpu_percent": round(cpu_delta / system_delta * online * 100, 2) if system_delta > 0 else 0.0,
        "memory_bytes": max(0, memory.get("usage", 0) - cache),
        "memory_limit_bytes": memory.get("limit", 0),
        "pids": (raw.get("pids_stats") or {}).get("current", 0),
    }

