"""`python -m bench`: run the benchmarks against a real dindweb server and bare docker.

Starts an isolated server, runs what --only names, prints each figure with its baseline,
writes bench/results/latest.json and latest.md, and removes everything it made on the
engine (environments through the API's DELETE, bare objects by this run's label), also
when interrupted.
"""

import argparse
import os
import platform
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

from . import classroom, create, density, lab, load, logs, proxy, report, terminal
from .runner import (LIMITS, NESTED_IMAGE, BenchError, Run, Server, engine, remove_abandoned,
                     remove_environment_objects, say)

BENCHMARKS = ["create", "class", "lab", "density", "terminal", "logs", "proxy", "load", "pool"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated benchmarks to run, of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--runs", type=int, default=10, help="create-to-ready runs on each side")
    parser.add_argument("--class-size", type=int, default=30, help="environments requested at once")
    parser.add_argument("--class-runs", type=int, default=3, help="rounds of the class on each side")
    parser.add_argument("--lab-size", type=int, default=30, help="seats of the classroom lab")
    parser.add_argument("--lab-runs", type=int, default=2, help="rounds of the classroom lab on each side")
    parser.add_argument("--density", type=int, default=100, help="idle environments on each side")
    parser.add_argument("--requests", type=int, default=200, help="list requests timed at that density")
    parser.add_argument("--settle", type=float, default=20, help="seconds idle before measuring memory")
    parser.add_argument("--keystrokes", type=int, default=1000, help="keystrokes timed on each side")
    parser.add_argument("--keystroke-gap", type=float, default=0.02, help="seconds between keystrokes")
    parser.add_argument("--log-lines", type=int, default=200_000, help="lines the nested container prints")
    parser.add_argument("--log-runs", type=int, default=3, help="log streams timed on each side")
    parser.add_argument("--load-shells", type=int, default=50, help="shells typing at once in the load run")
    parser.add_argument("--load-streams", type=int, default=20, help="log streams at once in the load run")
    parser.add_argument("--load-seconds", type=float, default=60, help="how long the load run lasts")
    parser.add_argument("--proxy-requests", type=int, default=1000, help="port proxy requests timed on each side")
    parser.add_argument("--proxy-clients", type=int, default=8, help="clients at once for port proxy requests/s")
    parser.add_argument("--proxy-seconds", type=float, default=5, help="seconds of each requests/s round")
    parser.add_argument("--workers", type=int, default=8, help="the server's background workers")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]}; choose from {', '.join(BENCHMARKS)}")
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _meta(args, started: float) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "environments", "dindweb"],
                           capture_output=True, text=True).stdout.strip()
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    version = engine().version()
    minutes, seconds = divmod(int(time.monotonic() - started), 60)
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {memory_gib:.0f} GiB, {platform.system()} {platform.release()},"
                   f" dockerd {version.get('Version')}",
        "commit": (commit or "?") + (" (application code modified)" if dirty else ""),
        "duration": f"{minutes} min {seconds} s",
        "parameters": {"runs": args.runs, "class size": args.class_size, "class runs": args.class_runs,
                       "lab seats": args.lab_size, "lab runs": args.lab_runs,
                       "density": args.density, "requests": args.requests, "keystrokes": args.keystrokes,
                       "log lines": args.log_lines, "log runs": args.log_runs, "workers": args.workers,
                       "proxy requests": args.proxy_requests, "proxy clients": args.proxy_clients,
                       "limits": f"{LIMITS.cpus:g} CPU, {LIMITS.memory_mb} MB, {LIMITS.pids} pids"},
    }


def _benchmarks(args, server: Server, bench_run: Run, results: list[dict]) -> None:
    """Runs what --only names, adding each outcome to `results` as soon as it is known."""

    def record(new):
        for r in new:
            say(report.line(r))
        results.extend(new)

    if "create" in args.only:
        say(f"create: one environment, {args.runs} runs on each side")
        record(create.run(server, bench_run, runs=args.runs))
    if "class" in args.only:
        say(f"class: {args.class_size} at once, {args.class_runs} rounds on each side")
        record(classroom.run(server, bench_run, size=args.class_size, runs=args.class_runs))
    if "lab" in args.only:
        say(f"lab: a class of {args.lab_size} seats from a lab template, {args.lab_runs} rounds on each side")
        record(lab.run(server, bench_run, size=args.lab_size, runs=args.lab_runs))
    if "density" in args.only:
        say(f"density: {args.density} idle environments on each side")
        record(density.run(server, bench_run, size=args.density, requests=args.requests, settle=args.settle,
                           concurrency=args.workers))
    if {"terminal", "logs", "proxy"} & set(args.only):
        # One running environment for both; the log benchmark needs an image inside it.
        *_, environment = server.create_and_wait("work", preload=[NESTED_IMAGE])
        if "terminal" in args.only:
            say(f"terminal: {args.keystrokes} keystrokes on each side")
            record(terminal.run(server, environment, keystrokes=args.keystrokes, gap=args.keystroke_gap))
        if "logs" in args.only:
            say(f"logs: {args.log_lines:,} lines, {args.log_runs} streams on each side")
            record(logs.run(server, environment, lines=args.log_lines, runs=args.log_runs))
        if "proxy" in args.only:
            say(f"proxy: {args.proxy_requests} requests on each side, then {args.proxy_clients} clients at once")
            record(proxy.run(server, environment, requests=args.proxy_requests, clients=args.proxy_clients,
                             seconds=args.proxy_seconds))
        server.delete_all()
    if "load" in args.only:
        say(f"load: {args.load_shells} shells and {args.load_streams} log streams for {args.load_seconds:.0f} s")
        record(load.run(server, shells=args.load_shells, streams=args.load_streams, seconds=args.load_seconds))
    if "pool" in args.only:
        record([report.skipped(id="pool", title="Create to ready from a warm pool",
                               reason="not measured: dindweb has no warm pool of pre-created environments")])


def _clean_up(server: Server, bench_run: Run) -> None:
    """Everything this run made goes, whatever happened; a second Ctrl-C waits for it."""
    signal.signal(signal.SIGINT, lambda *_: say("bench: still cleaning up, please wait"))
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    say("bench: cleaning up")
    try:
        if server.alive():
            server.delete_all()
    except (BenchError, OSError) as exc:
        say(f"bench: deleting environments through the API failed ({exc}); removing them on the engine")
    finally:
        server.stop()
        leftovers = remove_environment_objects(server.environment_keys())
        leftovers += bench_run.remove_bare()
        if leftovers:
            say(f"bench: removed {leftovers} leftover engine objects")


def main(argv=None) -> int:
    args = parse_args(argv)
    # Explicitly: a shell starts background jobs with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    started = time.monotonic()
    bench_run = Run()
    abandoned = remove_abandoned()
    if abandoned:
        say(f"bench: removed {abandoned} objects left by an earlier, interrupted run")
    server = Server(workers=args.workers)
    failed = keep_state = False
    results = []
    try:
        say(f"bench: run {bench_run.id}; server on {server.url}, state in {server.state_dir}")
        server.start()
        _benchmarks(args, server, bench_run, results)
    except KeyboardInterrupt as exc:
        failed = True
        say(f"bench: interrupted{f' ({exc})' if str(exc) else ''}")
    except BenchError as exc:
        failed = keep_state = True
        say(f"bench: stopped: {exc}")
    except Exception:
        failed = keep_state = True
        raise
    finally:
        _clean_up(server, bench_run)
        if keep_state:
            say(f"bench: the server's log is kept at {server.log_path}")
        else:
            server.remove_state()
    if not results:
        return 1
    meta = _meta(args, started)
    if failed:
        meta["incomplete"] = "the run stopped early: only the benchmarks shown ran"
    partial = set(args.only) != set(BENCHMARKS)
    json_path, md_path = report.write(meta, results, name="-".join(args.only) + "-latest" if partial else "latest")
    say(f"bench: wrote {json_path} and {md_path}")
    if failed:
        return 1
    missed = [r["id"] for r in results if r.get("met") is False]
    if missed:
        say(f"bench: targets missed: {', '.join(missed)}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
