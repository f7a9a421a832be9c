"""2. A class at once: N environments requested together, until all are running, against
N bare starts at the same concurrency (N threads of docker CLI calls)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from . import bare, report
from .runner import Run, Server, say, started

TARGET_RATIO = 1.3


def _release(gate: threading.Barrier) -> None:
    """Let the waiting threads go; if this thread is interrupted first, they end at once."""
    try:
        gate.wait()
    except BaseException:
        gate.abort()
        raise


def _api_class(server: Server, size: int, round_no: int) -> tuple[float, list[float]]:
    """Seconds until all run, and each one's seconds until it ran (by the server's started_at)."""
    gate = threading.Barrier(size + 1)

    def post(i):
        gate.wait()
        return server.create(f"class-{round_no}-{i}")["id"]

    with ThreadPoolExecutor(size) as pool:
        futures = [pool.submit(post, i) for i in range(size)]
        start = time.time()  # the server's started_at is on this clock too
        _release(gate)
        ids = [future.result() for future in futures]
    rows = server.wait_running(ids, timeout=600, poll=0.5)
    each = sorted(started(row) - start for row in rows.values())
    return each[-1], each


def bare_at_once(bench_run: Run, size: int, what: str, work) -> tuple[float, list[float]]:
    """`work(name, labels)` for `size` bare environments, all released at the same moment:
    seconds until the last is done, and each one's own seconds."""
    gate = threading.Barrier(size + 1)
    names = [bench_run.name(what) for _ in range(size)]

    def one(name):
        gate.wait()
        return work(name, bench_run.labels)

    with ThreadPoolExecutor(size) as pool:
        futures = [pool.submit(one, name) for name in names]
        start = time.perf_counter()
        _release(gate)
        each = [future.result() for future in futures]
    return time.perf_counter() - start, sorted(each)


def alternate(server: Server, bench_run: Run, *, runs: int, ours_side, bare_side, what: str):
    """`runs` rounds of both sides, the first side alternating, everything removed after
    each side: (ours, baseline, ours_each, bare_each). `ours_side(i)` and `bare_side()` give
    (wall seconds, each one's seconds)."""
    ours, baseline, ours_each, bare_each = [], [], [], []
    for i in range(runs):
        sides = [("dindweb", lambda: ours_side(i), ours, ours_each),
                 ("bare", bare_side, baseline, bare_each)]
        for label, side, wall, each in (sides if i % 2 == 0 else sides[::-1]):
            seconds, times = side()
            wall.append(seconds)
            each.extend(times)
            if label == "dindweb":
                server.delete_all()
            else:
                bench_run.remove_bare()
        say(f"  round {i + 1}/{runs}: dindweb {ours[-1]:.1f} s, bare {baseline[-1]:.1f} s for {what}")
    return ours, baseline, ours_each, bare_each


def run(server: Server, bench_run: Run, *, size: int, runs: int) -> list[dict]:
    ours, baseline, ours_each, bare_each = alternate(
        server, bench_run, runs=runs, ours_side=lambda i: _api_class(server, size, i),
        bare_side=lambda: bare_at_once(bench_run, size, "class", bare.start), what=f"{size}")
    ratio = report.figures(ours)["median"] / report.figures(baseline)["median"]
    ours_f, bare_f = report.figures(ours_each), report.figures(bare_each)
    notes = [
        f"{size} requested at once, wall time until the last is running (dindweb's by the server's"
        f" started_at, as for one environment); each one's own time to running:"
        f" dindweb median {ours_f['median']:.1f} s, bare median {bare_f['median']:.1f} s",
        f"the server ran with {server.env['DINDWEB_INPROCESS_WORKERS']} background workers; the bare side"
        f" ran {size} starts at once; nothing preloaded on either side",
    ]
    return [report.result(
        id="class", title=f"A class of {size} at once", unit="s", ours=ours, baseline=baseline,
        baseline_label="bare", target=f"ratio ≤ {TARGET_RATIO}", met=ratio <= TARGET_RATIO, notes=notes,
        extra={"each_ours": ours_f, "each_bare": bare_f, "size": size})]
