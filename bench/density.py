"""3. Density: N idle environments. Memory per environment (each container's cgroup memory
less page cache, plus what the server grew by, per environment), and the p95 latency of
the environment list page and of the API list with N environments. The baseline is N bare
environments: their memory, and the engine's own list call (`docker ps` over the API).

The two sides run one after the other (not side by side), so that twice N networks never
press on the host's address pool."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

from . import bare, report
from .runner import INSTANCE, LABEL_RUN, BenchError, Run, Server, engine, memory_bytes, say

MiB = 1024 * 1024
TARGET_MIB = 40
TARGET_P95_MS = 150


def _latencies(fn, requests: int) -> list[float]:
    values = []
    for _ in range(requests):
        start = time.perf_counter()
        fn()
        values.append((time.perf_counter() - start) * 1000)
    return values


def _list_page(server: Server, size: int):
    def get():
        status, _, body = server.request("GET", "/", auth="session")
        if status != 200:
            raise BenchError(f"The environment list page answered {status}.")
        return body

    rows = len(re.findall(rb'href="/environments/\d+/"', get()))
    if rows != size:
        raise BenchError(f"The list page shows {rows} environments, not {size}.")
    return get


def _api_list(server: Server, size: int):
    def get():
        return server.api("GET", "/environments/")

    if len(get()) != size:
        raise BenchError(f"The API lists {len(get())} environments, not {size}.")
    return get


def _ours(server: Server, size: int, requests: int, settle: float, concurrency: int) -> dict:
    rss_before = server.rss_bytes()
    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        ids = list(pool.map(lambda i: server.create(f"idle-{i:03d}")["id"], range(size)))
    server.wait_running(ids, timeout=120 + 10 * size, poll=0.5)
    up = time.monotonic() - start
    say(f"  dindweb: {size} environments running after {up:.0f} s; idle for {settle:.0f} s")
    time.sleep(settle)
    containers = engine().containers.list(filters={"label": [f"dindweb.instance={INSTANCE}"],
                                                   "status": "running"})
    memory = memory_bytes([c.id for c in containers])
    server_share = max(0, server.rss_bytes() - rss_before) / size
    page, api = _list_page(server, size), _api_list(server, size)
    page_ms, api_ms = [], []
    for _ in range(4):  # interleaved, a quarter at a time
        page_ms += _latencies(page, requests // 4)
        api_ms += _latencies(api, requests // 4)
    start = time.monotonic()
    server.delete_all(timeout=120 + 5 * size)
    return {"up": up, "memory": memory, "server_share": server_share, "page_ms": page_ms,
            "api_ms": api_ms, "delete": time.monotonic() - start}


def _bare(bench_run: Run, size: int, requests: int, settle: float, concurrency: int) -> dict:
    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda _: bare.start(bench_run.name("idle"), bench_run.labels), range(size)))
    up = time.monotonic() - start
    say(f"  bare: {size} environments running after {up:.0f} s; idle for {settle:.0f} s")
    time.sleep(settle)
    selector = {"label": [f"{LABEL_RUN}={bench_run.id}"]}
    containers = engine().containers.list(filters=selector)
    memory = memory_bytes([c.id for c in containers])
    api = engine().api
    if len(api.containers(filters=selector)) != size:
        raise BenchError(f"The engine lists {len(containers)} bare containers, not {size}.")
    list_ms = _latencies(lambda: api.containers(filters=selector), requests)
    start = time.monotonic()
    bench_run.remove_bare()
    return {"up": up, "memory": memory, "list_ms": list_ms, "delete": time.monotonic() - start}


def run(server: Server, bench_run: Run, *, size: int, requests: int, settle: float,
        concurrency: int) -> list[dict]:
    """`concurrency`: starts at once on the bare side, as many as the server's workers."""
    ours = _ours(server, size, requests, settle, concurrency)
    theirs = _bare(bench_run, size, requests, settle, concurrency)
    share = ours["server_share"] / MiB
    ours_mib = [m["docker_stats"] / MiB + share for m in ours["memory"]]
    bare_mib = [m["docker_stats"] / MiB for m in theirs["memory"]]
    no_cache = report.figures([m["no_cache"] / MiB for m in ours["memory"]])["mean"]
    mean = report.figures(ours_mib)["mean"]
    memory_notes = [
        f"memory is what `docker stats` shows (cgroup usage less inactive page cache) of each idle"
        f" container after {settle:.0f} s idle, plus the server's growth shared out ({share:.2f} MiB per"
        f" environment); less all page cache it is {no_cache:.1f} MiB",
        f"bringing up {size}: dindweb {ours['up']:.0f} s, bare {theirs['up']:.0f} s ({concurrency} at a time);"
        f" removing them: dindweb {ours['delete']:.0f} s, bare {theirs['delete']:.0f} s",
    ]
    page_p95 = report.figures(ours["page_ms"])["p95"]
    api_p95 = report.figures(ours["api_ms"])["p95"]
    engine_label = "engine list"
    return [
        report.result(id="density-memory", title=f"Memory per idle environment (N = {size})", unit="MiB",
                      ours=ours_mib, baseline=bare_mib, baseline_label="bare", figure="mean",
                      target=f"≤ {TARGET_MIB} MiB", met=mean <= TARGET_MIB, notes=memory_notes,
                      extra={"server_share_mib": share, "no_cache_mean_mib": no_cache}),
        report.result(id="density-page", title=f"List page latency (N = {size})", unit="ms",
                      ours=ours["page_ms"], baseline=theirs["list_ms"], baseline_label=engine_label,
                      figure="p95", target=f"p95 < {TARGET_P95_MS} ms", met=page_p95 < TARGET_P95_MS,
                      notes=[f"{len(ours['page_ms'])} sequential GETs of / with a session; the baseline is"
                             f" the engine API's container list (`docker ps`) filtered to the {size} bare"
                             " containers"]),
        report.result(id="density-api", title=f"API list latency (N = {size})", unit="ms",
                      ours=ours["api_ms"], baseline=theirs["list_ms"], baseline_label=engine_label,
                      figure="p95", target=f"p95 < {TARGET_P95_MS} ms", met=api_p95 < TARGET_P95_MS,
                      notes=[f"{len(ours['api_ms'])} sequential GETs of /api/v1/environments/ with a token"]),
    ]
