"""9. A classroom lab made ready: N seats from a lab template (an image preloaded, a setup
script that runs a nested container, one nested container left running), from the
trainer's "Provision seats" button until every seat is ready; against the same work done
with the docker CLI alone, N seats at once."""

import json
import subprocess
import time

from . import bare, report
from .classroom import alternate, bare_at_once
from .runner import LIMITS, NESTED_IMAGE, USERNAME, BenchError, Run, Server, started

TARGET_RATIO = 1.3
SETUP = "docker run --rm dindweb/busybox true && echo ready > /root/ready"
NESTED = ["--name", "web", NESTED_IMAGE, "sleep", "3600"]

# Run by `manage.py shell -c`: the bench user becomes a trainer with a lab and a class of
# N seats; prints the class's id.
_MAKE_CLASS = """
import json, os
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from environments.classrooms.classrooms import classroom_create
from environments.classrooms.lab_templates import lab_template_save
from environments.models import LabTemplate, Quota
user = get_user_model().objects.get(username=os.environ["BENCH_USER"])
user.groups.add(Group.objects.get_or_create(name="trainer")[0])
Quota.objects.filter(user=user).update(max_classroom_seats=100000)
lab = LabTemplate.objects.filter(owner=user, name="bench lab").first() or lab_template_save(
    owner=user, name="bench lab", cpus=os.environ["BENCH_CPUS"], memory_mb=os.environ["BENCH_MEMORY"],
    preload=[os.environ["BENCH_NESTED_IMAGE"]], setup_script=os.environ["BENCH_SETUP"],
    run_containers=[json.loads(os.environ["BENCH_NESTED"])])
now = timezone.now()
classroom = classroom_create(trainer=user, template=lab, title="bench class", starts_at=now,
                             ends_at=now + timedelta(hours=2), seats=int(os.environ["BENCH_SEATS"]))
print(classroom.pk)
"""


def _make_class(server: Server, size: int) -> int:
    out = server._manage("shell", "-c", _MAKE_CLASS, env={
        "BENCH_USER": USERNAME, "BENCH_CPUS": str(LIMITS.cpus), "BENCH_MEMORY": str(LIMITS.memory_mb),
        "BENCH_NESTED_IMAGE": NESTED_IMAGE, "BENCH_SETUP": SETUP, "BENCH_NESTED": json.dumps(NESTED),
        "BENCH_SEATS": str(size)})
    return int(out.strip().splitlines()[-1])


def _provision(server: Server, classroom_id: int, size: int) -> tuple[float, list[float]]:
    """Press "Provision seats" as the trainer's browser does; seconds until every seat is
    ready (by the server's started_at, set once its setup and nested container are done)."""
    if not server.cookie:
        server.cookie = server._login()
    csrf = server.cookie.split("csrftoken=")[1].split(";")[0]
    start = time.time()
    status, _, body = server.request("POST", f"/classrooms/{classroom_id}/provision/", auth="session",
                                     form={"csrfmiddlewaretoken": csrf})
    if status != 302:
        raise BenchError(f"Provisioning the class answered {status}: {body[:300].decode(errors='replace')}")
    prefix = f"class{classroom_id}-seat"
    deadline = time.monotonic() + 900
    while True:
        rows = [row for row in server.api("GET", "/environments/") if row["name"].startswith(prefix)]
        failed = [row for row in rows if row["status"] == "error"]
        if failed:
            raise BenchError(f"Seat {failed[0]['name']} failed: {failed[0]['status_detail']}")
        if len(rows) == size and all(row["status"] == "running" for row in rows):
            each = sorted(started(row) - start for row in rows)
            return each[-1], each
        if time.monotonic() > deadline:
            raise BenchError(f"The class of {size} was not ready after 900 s.")
        time.sleep(0.5)


def _bare_seat(name: str, labels: dict) -> float:
    began = time.perf_counter()
    bare.start(name, labels)
    # docker save | docker exec -i docker load: how an image reaches a seat without a registry.
    saver = subprocess.Popen(["docker", "save", NESTED_IMAGE], stdout=subprocess.PIPE)
    loaded = subprocess.run(["docker", "exec", "-i", name, "docker", "load"], stdin=saver.stdout,
                            capture_output=True, text=True, timeout=bare.READY_TIMEOUT)
    saver.stdout.close()
    if saver.wait() != 0 or loaded.returncode != 0:
        raise BenchError(f"Loading {NESTED_IMAGE} into {name} failed: {loaded.stderr.strip()}")
    bare.docker("exec", name, "bash", "-c", SETUP)
    bare.docker("exec", name, "docker", "run", "-d", *NESTED)
    return time.perf_counter() - began


def run(server: Server, bench_run: Run, *, size: int, runs: int) -> list[dict]:
    # A new class each round; its making is not timed (_provision times from the button).
    ours, baseline, ours_each, bare_each = alternate(
        server, bench_run, runs=runs, ours_side=lambda i: _provision(server, _make_class(server, size), size),
        bare_side=lambda: bare_at_once(bench_run, size, "lab", _bare_seat), what=f"{size} seats")
    ratio = report.figures(ours)["median"] / report.figures(baseline)["median"]
    ours_f, bare_f = report.figures(ours_each), report.figures(bare_each)
    notes = [
        f"{size} seats, each: {NESTED_IMAGE} preloaded, the setup script `{SETUP}`, and"
        f" `docker run -d {' '.join(NESTED)}`; wall time from the trainer's Provision button"
        f" until every seat is ready (by the server's started_at); each seat's own time:"
        f" dindweb median {ours_f['median']:.1f} s, bare median {bare_f['median']:.1f} s",
        f"the server made {server.env['DINDWEB_INPROCESS_WORKERS']} seats at a time (its workers);"
        f" the bare side ran all {size} at once",
    ]
    return [report.result(
        id="lab", title=f"A classroom lab of {size} seats made ready", unit="s", ours=ours,
        baseline=baseline, baseline_label="bare", target=f"ratio ≤ {TARGET_RATIO}",
        met=ratio <= TARGET_RATIO, notes=notes, extra={"each_ours": ours_f, "each_bare": bare_f, "size": size})]
