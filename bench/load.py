"""Load, bounded and local: SHELLS websocket shells each typing and LOG_STREAMS log streams
at once for a while, on loopback only. Figures: keystroke to echo under that load; then
whether anything went wrong: errors, processes left in the environments, reader threads
left in the server, and the server's memory against where it started.

The shells echo with `cat` on a raw TTY (as the terminal benchmark does); the log streams
follow one nested container that prints steadily."""

import asyncio
import json
import time

from websockets.asyncio.client import connect

from . import report
from .runner import NESTED_IMAGE, BenchError, Server, say

ENVIRONMENTS = 5
MEMORY_SLACK_MIB = 64  # "back near its start": what Python may keep of what it allocated
# The event loop's executor may still add a thread or two of its fixed pool; a leak of
# stream readers would add one per shell or stream.
THREAD_SLACK = 2
PRINTER = ["docker", "run", "-d", "--name", "ticker", NESTED_IMAGE, "sh", "-c",
           "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.01; done"]


def _threads(server: Server) -> int:
    with open(f"/proc/{server.process.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


def _processes(server: Server, environment: dict) -> int:
    result = server.api("POST", f"/environments/{environment['id']}/exec/", {"cmd": ["ps", "-e", "-o", "pid="]})
    return len(result["output"].split())


async def _shell(server: Server, environment: dict, until: float, latencies: list, errors: list):
    headers = {"Authorization": f"Token {server.token}"}
    url = server.ws_url(f"/ws/environments/{environment['id']}/shell/")
    try:
        async with connect(url, additional_headers=headers, proxy=None, ping_interval=None, max_size=None) as ws:
            await ws.send(b"stty raw -echo; echo RE''ADY; exec cat\r")
            received = b""
            while b"READY" not in received:
                received += await asyncio.wait_for(ws.recv(), 30)
            key = 0
            while time.monotonic() < until:
                byte = bytes([97 + key % 26])
                key += 1
                started = time.perf_counter()
                await ws.send(byte)
                echoed = b""
                while byte not in echoed:
                    echoed += await asyncio.wait_for(ws.recv(), 10)
                latencies.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.05)
    except Exception as exc:  # noqa: BLE001 - every failure is a finding, counted
        errors.append(f"shell: {exc!r}")


async def _log_stream(server: Server, environment: dict, until: float, counts: list, errors: list):
    headers = {"Authorization": f"Token {server.token}"}
    url = server.ws_url(f"/ws/environments/{environment['id']}/containers/ticker/logs/?tail=0")
    lines = 0
    try:
        async with connect(url, additional_headers=headers, proxy=None, ping_interval=None, max_size=None) as ws:
            while time.monotonic() < until:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, until - time.monotonic())))
                except TimeoutError:
                    break
                if frame["type"] == "lines":
                    lines += len(frame["lines"])
                elif frame["type"] in ("error", "end"):
                    errors.append(f"log stream: {frame}")
                    break
    except Exception as exc:  # noqa: BLE001
        errors.append(f"log stream: {exc!r}")
    counts.append(lines)


async def _load(server, environments, *, shells, streams, seconds):
    until = time.monotonic() + seconds
    latencies, counts, errors = [], [], []
    tasks = [_shell(server, environments[i % len(environments)], until, latencies, errors) for i in range(shells)]
    tasks += [_log_stream(server, environments[0], until, counts, errors) for _ in range(streams)]
    await asyncio.gather(*tasks)
    return latencies, counts, errors


def run(server: Server, *, shells: int, streams: int, seconds: float) -> list[dict]:
    environments = [server.create_and_wait(f"load-{i}", preload=[NESTED_IMAGE])[-1] for i in range(ENVIRONMENTS)]
    server.api("POST", f"/environments/{environments[0]['id']}/exec/", {"cmd": PRINTER})
    # A short round first: the server's thread pools grow to their size and stay, which is
    # not a leak; what is measured is what the main round leaves on top of that.
    asyncio.run(_load(server, environments, shells=shells, streams=streams, seconds=min(5, seconds)))
    time.sleep(3)
    before_processes = [_processes(server, e) for e in environments]
    before_threads, before_rss = _threads(server), server.rss_bytes()
    say(f"  {shells} shells typing and {streams} log streams for {seconds:.0f} s")
    latencies, counts, errors = asyncio.run(_load(server, environments, shells=shells, streams=streams,
                                                  seconds=seconds))
    # The server ends each closed shell's processes itself, a few at a time: give it until
    # the counts settle (up to 30 s) before calling anything left behind a leak.
    deadline = time.monotonic() + 30
    while True:
        after_processes = [_processes(server, e) for e in environments]
        if all(a <= b for a, b in zip(after_processes, before_processes)) or time.monotonic() > deadline:
            break
        time.sleep(1)
    after_threads, after_rss = _threads(server), server.rss_bytes()
    grown_mib = (after_rss - before_rss) / 2**20
    leaks = [f"{e['name']}: {a - b} more processes" for e, b, a in zip(environments, before_processes,
                                                                    after_processes) if a > b]
    if after_threads > before_threads + THREAD_SLACK:
        leaks.append(f"server: {after_threads - before_threads} more threads")
    met = not errors and not leaks and grown_mib <= MEMORY_SLACK_MIB and len(latencies) > 0
    server.delete_all()
    if not latencies:
        raise BenchError(f"No keystroke came back under load: {errors[:3]}")
    return [report.result(
        id="load", title=f"Load: {shells} shells + {streams} log streams, {seconds:.0f} s",
        unit="ms", ours=latencies, baseline=[], baseline_label="(no baseline)", figure="p50",
        target=f"no errors, no leaked processes or threads, memory within {MEMORY_SLACK_MIB} MiB", met=met,
        notes=[f"{len(latencies):,} keystrokes echoed; log lines received per stream: "
               f"{min(counts):,}–{max(counts):,}" if counts else "no log stream ran",
               f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""),
               f"left behind: {', '.join(leaks) or 'nothing'}; server threads {before_threads} → {after_threads}",
               f"server memory {before_rss / 2**20:.0f} MiB → {after_rss / 2**20:.0f} MiB ({grown_mib:+.0f} MiB)"],
        extra={"errors": errors[:20], "leaks": leaks, "rss_growth_mib": grown_mib})]
