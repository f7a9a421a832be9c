"""4. Terminal round trip: keystroke to echo through the websocket shell, against `docker
exec -i ENV cat` on a pipe, in the same environment.

Both sides echo with the same program: the websocket shell runs `stty raw -echo; exec cat`,
so each byte goes to cat at once and cat writes it back, as it does on the pipe. Keystrokes
are paced like fast typing and the two sides alternate in blocks."""

import asyncio
import json
import os
import subprocess
import time

from websockets.asyncio.client import connect

from . import report
from .runner import BenchError, Server, environment_container, say

TARGET_ADDED_MS = 5
BLOCKS = 10
WARM_UP = 20
KEYS = b"abcdefghijklmnopqrstuvwxyz"


def _key(i: int) -> bytes:
    return KEYS[i % len(KEYS):][:1]


class SocketShell:
    def __init__(self, server: Server, environment_id: int):
        self.url = server.ws_url(f"/ws/environments/{environment_id}/shell/")
        self.headers = {"Authorization": f"Token {server.token}"}

    async def open(self):
        self.ws = await connect(self.url, additional_headers=self.headers, proxy=None, ping_interval=None,
                                max_size=None)
        await self.ws.send(json.dumps({"type": "resize", "cols": 100, "rows": 30}))
        await self.ws.send(b"stty raw -echo; echo RE''ADY; exec cat\r")
        await self._read_until(b"READY", timeout=30)
        for i in range(WARM_UP):
            await self.keystroke(_key(i))

    async def _read_until(self, wanted: bytes, timeout: float = 10) -> None:
        received = b""
        while wanted not in received:
            message = await asyncio.wait_for(self.ws.recv(), timeout)
            if isinstance(message, str):
                raise BenchError(f"The shell socket said {message} while waiting for {wanted!r}.")
            received += message

    async def keystroke(self, key: bytes) -> float:
        start = time.perf_counter()
        await self.ws.send(key)
        await self._read_until(key)
        return time.perf_counter() - start

    async def close(self):
        await self.ws.close()


class PipeShell:
    def __init__(self, container: str):
        self.process = subprocess.Popen(["docker", "exec", "-i", container, "cat"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, bufsize=0)
        self.stdin, self.stdout = self.process.stdin.fileno(), self.process.stdout.fileno()
        for i in range(WARM_UP):
            self.keystroke(_key(i))

    def keystroke(self, key: bytes) -> float:
        start = time.perf_counter()
        os.write(self.stdin, key)
        received = b""
        while key not in received:
            chunk = os.read(self.stdout, 4096)
            if not chunk:
                raise BenchError("docker exec -i ... cat ended early.")
            received += chunk
        return time.perf_counter() - start

    def close(self):
        self.process.stdin.close()
        self.process.wait(10)


async def _measure(server: Server, environment: dict, keystrokes: int, gap: float):
    socket_shell = SocketShell(server, environment["id"])
    await socket_shell.open()
    pipe_shell = await asyncio.to_thread(PipeShell, environment_container(environment["name"]).name)
    ours, baseline = [], []
    per_block = max(1, keystrokes // BLOCKS)

    def pipe_block(offset):
        for i in range(per_block):
            baseline.append(pipe_shell.keystroke(_key(offset + i)) * 1000)
            time.sleep(gap)

    try:
        for block in range(BLOCKS):
            for i in range(per_block):
                ours.append(await socket_shell.keystroke(_key(block + i)) * 1000)
                await asyncio.sleep(gap)
            await asyncio.to_thread(pipe_block, block)
    finally:
        await socket_shell.close()
        await asyncio.to_thread(pipe_shell.close)
    return ours, baseline


def run(server: Server, environment: dict, *, keystrokes: int, gap: float) -> list[dict]:
    ours, baseline = asyncio.run(_measure(server, environment, keystrokes, gap))
    ours_f, base_f = report.figures(ours), report.figures(baseline)
    added = ours_f["p50"] - base_f["p50"]
    say(f"  added at p50: {added:.2f} ms, at p99: {ours_f['p99'] - base_f['p99']:.2f} ms")
    return [report.result(
        id="terminal", title=f"Terminal keystroke to echo ({len(ours)} keys)", unit="ms", ours=ours,
        baseline=baseline, baseline_label="docker exec -i", figure="p50",
        target=f"≤ {TARGET_ADDED_MS} ms added at p50", met=added <= TARGET_ADDED_MS,
        notes=[f"added by dindweb: {added:.2f} ms at p50, {ours_f['p99'] - base_f['p99']:.2f} ms at p99;"
               f" one keystroke every {gap * 1000:.0f} ms after each echo, the sides alternating in blocks of"
               f" {max(1, keystrokes // BLOCKS)}; both echo with cat (the shell's TTY in raw mode)"],
        extra={"added_p50_ms": added, "added_p99_ms": ours_f["p99"] - base_f["p99"]})]
