"""5. Log streaming: a nested container prints N lines; lines per second a websocket client
receives from the log socket (`tail=all`, followed until the end), against `docker exec
ENV docker logs --follow --timestamps --tail all` of the same container, which is the
command the server itself runs. The server's memory is sampled while it streams."""

import asyncio
import json
import shlex
import subprocess
import threading
import time

from websockets.asyncio.client import connect

from . import report
from .runner import NESTED_IMAGE, BenchError, Server, environment_container, say

TARGET_SHARE = 0.5
MEMORY_BOUND_MIB = 256  # the server's growth while streaming must stay under this
CONTAINER = "logger"
MiB = 1024 * 1024


def _printer(lines: int) -> list[str]:
    """A nested container that prints `lines` lines and ends; the command waits for its end."""
    program = (f'BEGIN {{ for (i = 1; i <= {lines}; i++) printf "line %d of {lines}: the quick brown fox'
               f' jumps over the lazy dog\\n", i }}')
    run = shlex.join(["docker", "run", "-d", "--name", CONTAINER, NESTED_IMAGE, "awk", program])
    return ["sh", "-c", f"{run} >/dev/null && exit $(docker wait {CONTAINER})"]


class MemoryWatch:
    """The server's resident memory, sampled every 20 ms in a thread while streaming."""

    def __init__(self, server: Server):
        self.server, self.peak, self.stopping = server, 0, threading.Event()

    def __enter__(self):
        self.before = self.server.rss_bytes()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while not self.stopping.wait(0.02):
            self.peak = max(self.peak, self.server.rss_bytes())

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()

    @property
    def growth(self) -> int:
        return max(0, self.peak - self.before)


async def _socket_rate(server: Server, environment_id: int) -> dict:
    url = server.ws_url(f"/ws/environments/{environment_id}/containers/{CONTAINER}/logs/?tail=all&timestamps=1")
    received = dropped = 0
    start = time.perf_counter()
    async with connect(url, additional_headers={"Authorization": f"Token {server.token}"}, proxy=None,
                       ping_interval=None, max_size=None) as ws:
        async for message in ws:
            frame = json.loads(message)
            if frame["type"] == "lines":
                received += len(frame["lines"])
            elif frame["type"] == "dropped":
                dropped += frame["count"]
            elif frame["type"] == "end":
                break
            elif frame["type"] == "error":
                raise BenchError(f"The log socket said: {frame['message']}")
    seconds = time.perf_counter() - start
    return {"received": received, "dropped": dropped, "seconds": seconds}


def _pipe_rate(container: str) -> dict:
    start = time.perf_counter()
    process = subprocess.Popen(["docker", "exec", container, "docker", "logs", "--follow", "--timestamps",
                                "--tail", "all", CONTAINER], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    received = 0
    while chunk := process.stdout.read1(1 << 20):
        received += chunk.count(b"\n")
    process.wait(30)
    return {"received": received, "dropped": 0, "seconds": time.perf_counter() - start}


def run(server: Server, environment: dict, *, lines: int, runs: int) -> list[dict]:
    started = time.perf_counter()
    result = server.api("POST", f"/environments/{environment['id']}/exec/",
                        {"cmd": _printer(lines), "timeout": 600})
    if result["exit_code"] != 0:
        raise BenchError(f"The nested log printer failed: {result['output'][-500:]}")
    say(f"  a nested container printed {lines:,} lines in {time.perf_counter() - started:.1f} s")
    container = environment_container(environment["name"]).name
    ours, baseline, growth, socket_runs = [], [], [], []
    for i in range(runs):
        sides = ["socket", "pipe"] if i % 2 == 0 else ["pipe", "socket"]
        for side in sides:
            if side == "socket":
                with MemoryWatch(server) as watch:
                    outcome = asyncio.run(_socket_rate(server, environment["id"]))
                growth.append(watch.growth / MiB)
                socket_runs.append(outcome)
                ours.append(outcome["received"] / outcome["seconds"])
            else:
                outcome = _pipe_rate(container)
                if outcome["received"] != lines:
                    raise BenchError(f"docker logs gave {outcome['received']} lines, not {lines}.")
                baseline.append(outcome["received"] / outcome["seconds"])
        say(f"  run {i + 1}/{runs}: websocket {ours[-1]:,.0f} lines/s"
            f" ({socket_runs[-1]['received']:,} received, {socket_runs[-1]['dropped']:,} dropped),"
            f" docker logs {baseline[-1]:,.0f} lines/s")
    ratio = report.figures(ours)["median"] / report.figures(baseline)["median"]
    peak = max(growth)
    worst = min(socket_runs, key=lambda r: r["received"])
    return [report.result(
        id="logs", title=f"Log streaming ({lines:,} lines)", unit="lines/s", ours=ours, baseline=baseline,
        baseline_label="docker logs -f", higher_is_better=True,
        target=f"≥ {TARGET_SHARE:g} × baseline, server memory bounded",
        met=ratio >= TARGET_SHARE and peak < MEMORY_BOUND_MIB,
        notes=[f"lines received per second over the whole stream (connect to end); the fewest received in"
               f" a run: {worst['received']:,} of {lines:,}, and {worst['dropped']:,} dropped by the server"
               f" (its log socket sends at most 5,000 lines per 50 ms and keeps at most 50,000 waiting)",
               f"server memory grew by {peak:.0f} MiB at most while streaming (bound taken as"
               f" {MEMORY_BOUND_MIB} MiB)"],
        extra={"socket_runs": socket_runs, "server_growth_mib": growth})]
