"""1. Create to ready, one environment: API POST until the status is running (the nested
daemon answered), against `docker run` of the same container until `docker exec ENV docker
version` succeeds. The two sides alternate, and each run is removed before the next."""

from datetime import datetime

from . import bare, report
from .runner import Run, Server, engine, environment_container, say

TARGET_RATIO = 1.25


def _server_seconds(environment: dict) -> float:
    """From the row's creation to its settling as running, as the server recorded them."""
    created = datetime.fromisoformat(environment["created_at"])
    started = datetime.fromisoformat(environment["started_at"])
    return (started - created).total_seconds()


def run(server: Server, bench_run: Run, *, runs: int) -> list[dict]:
    ours, baseline, server_side, notes = [], [], [], []
    for i in range(runs):
        name = f"create-{i}"
        bare_name = bench_run.name("create")

        def api_side():
            seconds, environment = server.create_and_wait(name)
            ours.append(seconds)
            server_side.append(_server_seconds(environment))

        def bare_side():
            baseline.append(bare.start(bare_name, bench_run.labels))

        # Alternate which side goes first, so neither always finds a warmer engine.
        for side in ((api_side, bare_side) if i % 2 == 0 else (bare_side, api_side)):
            side()
        if i == 0:
            diff = bare.differences(environment_container(name), engine().containers.get(bare_name))
            notes.append("container check: dindweb's and the bare container have the same image, limits,"
                         " profile, volume at /var/lib/docker and own network" if not diff
                         else "container check: they DIFFER: " + "; ".join(diff))
            say(f"  {notes[-1]}")
        say(f"  run {i + 1}/{runs}: dindweb {ours[-1]:.2f} s, bare {baseline[-1]:.2f} s")
        server.delete_all()
        bench_run.remove_bare()

    ratio = report.figures(ours)["median"] / report.figures(baseline)["median"]
    server_median = report.figures(server_side)["median"]
    notes += [
        "both sides preload nothing (the API is sent \"preload\": []); the dashboard's default preloads"
        " dindweb/busybox, which adds a docker save | docker load",
        f"of dindweb's median, {server_median:.2f} s passed between the row's creation and its settling as"
        " running (server clock); the rest is the POST and the client's 50 ms polling",
    ]
    return [report.result(
        id="create", title="Create to ready, one environment", unit="s", ours=ours, baseline=baseline,
        baseline_label="bare", target=f"ratio ≤ {TARGET_RATIO}", met=ratio <= TARGET_RATIO, notes=notes,
        extra={"server_seconds": report.figures(server_side)})]
