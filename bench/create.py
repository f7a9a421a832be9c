"""1. Create to ready, one environment: API POST until the status is running (the nested
daemon answered), against `docker run` of the same container until `docker exec ENV docker
version` succeeds. The two sides alternate, and each run is removed before the next."""

from . import bare, report
from .runner import Run, Server, engine, environment_container, say

TARGET_RATIO = 1.25


def run(server: Server, bench_run: Run, *, runs: int) -> list[dict]:
    ours, baseline, via_api, observed, notes = [], [], [], [], []
    for i in range(runs):
        name = f"create-{i}"
        bare_name = bench_run.name("create")

        def api_side():
            seconds, seen, _ = server.create_and_wait(name)
            ours.append(seconds)
            observed.append(seen)

        def bare_side():
            baseline.append(bare.start(bare_name, bench_run.labels))

        def engine_side():
            via_api.append(bare.start_via_api(bench_run.name("create-api"), bench_run.labels))

        # Rotate which side goes first, so that none always finds a warmer engine.
        sides = [api_side, bare_side, engine_side]
        for side in sides[i % 3:] + sides[:i % 3]:
            side()
        if i == 0:
            diff = bare.differences(environment_container(name), engine().containers.get(bare_name))
            notes.append("container check: dindweb's and the bare container have the same image, limits,"
                         " profile, volume at /var/lib/docker and own network" if not diff
                         else "container check: they DIFFER: " + "; ".join(diff))
            say(f"  {notes[-1]}")
        say(f"  run {i + 1}/{runs}: dindweb {ours[-1]:.2f} s, bare {baseline[-1]:.2f} s,"
            f" bare through the engine API {via_api[-1]:.2f} s")
        server.delete_all()
        bench_run.remove_bare()

    ratio = report.figures(ours)["median"] / report.figures(baseline)["median"]
    api_median = report.figures(via_api)["median"]
    notes += [
        f"the same steps through the engine API (docker-py, no CLI process per step) took {api_median:.2f} s"
        f" (median, {min(via_api):.2f}–{max(via_api):.2f}): dindweb's ratio to that is"
        f" {report.figures(ours)['median'] / api_median:.2f}; the CLI's own start-up is part of the bare figure",
        "both sides preload nothing (the API is sent \"preload\": []); the dashboard's default preloads"
        " dindweb/busybox, which adds a docker save | docker load",
        "dindweb's time ends when the server recorded the status as running (its started_at, same clock);"
        f" a client polling every 0.25 s saw it after {report.figures(observed)['median']:.2f} s (median)",
    ]
    return [report.result(
        id="create", title="Create to ready, one environment", unit="s", ours=ours, baseline=baseline,
        baseline_label="bare", target=f"ratio ≤ {TARGET_RATIO}", met=ratio <= TARGET_RATIO, notes=notes,
        extra={"observed_by_client": report.figures(observed), "bare_engine_api": report.figures(via_api),
               "ratio_to_engine_api": report.figures(ours)["median"] / api_median})]
