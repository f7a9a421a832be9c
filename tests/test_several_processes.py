"""Two web processes behind no proxy, as a scaled-out site runs them: each `manage.py serve`
with its own workers and scheduler, sharing PostgreSQL and Redis that the suite starts
itself (tests/servers.py). What one process does, the other's pages and sockets see; the
work queued and the periodic jobs run once, whichever process picks them up."""

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
import websockets
from django.conf import settings
from playwright.sync_api import expect

from environments.lifecycle import remove_objects

from .browser import chromium_page, log_in
from .conftest import PASSWORD
from .servers import free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
# Its own engine label: the cluster's reconcile would take the suite's objects, labelled
# with the suite's instance but unknown to the cluster's database, for orphans.
INSTANCE = f"{settings.DINDWEB_INSTANCE}-cluster"

SEED = """
import json
from django.contrib.auth import get_user_model
from environments import tokens
from environments.quota_services import quota_set
User = get_user_model()
keys = {}
for name in ("alice", "bob"):
    user = User.objects.create_user(name, f"{name}@example.com", %r)
    keys[name] = tokens.token_create(user=user, name="tests")[1]
quota_set(user=User.objects.get(username="bob"), max_environments=3, max_cpus=100, max_memory_mb=10**6)
print(json.dumps(keys))
"""


class Cluster:
    def __init__(self, env, folder):
        self.env, self.folder = env, folder
        self.urls, self.logs, self.processes = [], [], []

    def manage(self, *args):
        run = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                             capture_output=True, text=True, timeout=120)
        if run.returncode:
            pytest.fail(f"manage.py {args[0]} failed: {run.stderr[-3000:]}", pytrace=False)
        return run.stdout

    def serve(self, number):
        port = free_port()
        log = self.folder / f"serve-{number}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        self.logs.append(log)
        self.urls.append(f"http://127.0.0.1:{port}")

    def wait_ready(self):
        for url, process, log in zip(self.urls, self.processes, self.logs):
            wait_until_up(lambda url=url: urllib.request.urlopen(url + "/accounts/login/", timeout=2), url,
                          process, log, timeout=60)

    def sql(self, query, *params):
        with psycopg.connect(self.env["DATABASE_URL"].replace("postgres://", "postgresql://")) as connection:
            return connection.execute(query, params).fetchall()

    def log_text(self):
        return "".join(log.read_text(errors="replace") for log in self.logs)


@pytest.fixture(scope="module")
def cluster(redis_url, postgres_url, tmp_path_factory, engine):
    folder = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": postgres_url,
           "REDIS_URL": redis_url, "DINDWEB_STATE_DIR": str(folder), "DINDWEB_TEST_INSTANCE": INSTANCE,
           "LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1"}
    cluster = Cluster(env, folder)
    remove_cluster_objects(engine)
    cluster.manage("migrate", "--noinput", "-v", "0")
    cluster.tokens = json.loads(cluster.manage("shell", "-c", SEED % PASSWORD).strip().splitlines()[-1])
    cluster.serve(1)
    cluster.serve(2)
    try:
        cluster.wait_ready()
        yield cluster
    finally:
        for url in cluster.urls[:1]:
            for environment in api(url, "GET", "/api/v1/environments/", cluster.tokens["alice"])[1] or []:
                api(url, "DELETE", f"/api/v1/environments/{environment['id']}/", cluster.tokens["alice"])
        for process in cluster.processes:
            process.terminate()
        for process in cluster.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        remove_cluster_objects(engine)


def remove_cluster_objects(engine):
    """What the cluster made on the engine (a killed run's too)."""
    found = engine.labelled(INSTANCE)
    remove_objects(engine, [(kind.rstrip("s"), item["name"])
                            for kind in ("containers", "networks", "volumes") for item in found[kind]])


def api(base, method, path, token, body=None):
    """(status, JSON answer) of one API call."""
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text.startswith(b"{") else None


def wait_status(cluster, token, pk, statuses, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, body = api(cluster.urls[0], "GET", f"/api/v1/environments/{pk}/", token)
        if code == 404 and None in statuses:
            return None
        if code == 200 and body["status"] in statuses:
            return body
        time.sleep(0.2)
    raise AssertionError(f"environment {pk} never reached {statuses}: {code} {body}")


@pytest.fixture(scope="module")
def running(cluster):
    """An environment of alice's, created through process 1."""
    code, body = api(cluster.urls[0], "POST", "/api/v1/environments/", cluster.tokens["alice"],
                     {"name": "across", "preload": []})
    assert code == 201, body
    wait_status(cluster, cluster.tokens["alice"], body["id"], {"running"})
    return body["id"]


def socket_to(base, path, token):
    return websockets.connect(base.replace("http", "ws") + path, open_timeout=20,
                              additional_headers={"Authorization": f"Token {token}"})


async def next_status(socket, timeout=30):
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        if frame["type"] == "status":
            return frame


async def test_a_change_made_through_one_process_is_pushed_by_the_other(cluster, running):
    token = cluster.tokens["alice"]
    async with socket_to(cluster.urls[1], f"/ws/environments/{running}/status/", token) as socket:
        assert (await next_status(socket))["status"] == "running"
        asked = time.monotonic()
        code, _ = await asyncio.to_thread(api, cluster.urls[0], "POST", f"/api/v1/environments/{running}/stop/", token)
        assert code == 202
        frame = await next_status(socket, timeout=5)
        # Pushed, not polled: well under the page's one-second poll.
        assert frame["status"] in ("stopping", "stopped") and time.monotonic() - asked < 1.5
        while frame["status"] != "stopped":
            frame = await next_status(socket, timeout=60)
        assert frame["status_detail"].startswith("Stopped")
        await asyncio.to_thread(api, cluster.urls[0], "POST", f"/api/v1/environments/{running}/start/", token)
        while frame["status"] != "running":
            frame = await next_status(socket, timeout=60)
        assert frame["steps"] and all(step["state"] == "done" for step in frame["steps"])


async def test_a_delete_through_one_process_ends_the_others_status_socket(cluster):
    token = cluster.tokens["alice"]
    code, body = await asyncio.to_thread(api, cluster.urls[0], "POST", "/api/v1/environments/", token,
                                         {"name": "short-lived", "preload": []})
    assert code == 201
    async with socket_to(cluster.urls[1], f"/ws/environments/{body['id']}/status/", token) as socket:
        assert (await next_status(socket))["status"] in ("creating", "running")
        assert (await asyncio.to_thread(api, cluster.urls[0], "DELETE", f"/api/v1/environments/{body['id']}/",
                                        token))[0] == 202
        frames = []
        while not frames or frames[-1]["type"] != "gone":
            frames.append(json.loads(await asyncio.wait_for(socket.recv(), 60)))
        assert "deleting" in {frame.get("status") for frame in frames}
        with pytest.raises(websockets.ConnectionClosedOK):
            await asyncio.wait_for(socket.recv(), 10)


def test_a_page_on_one_process_follows_a_stop_made_through_the_other(cluster, running):
    """In a browser: the page on process 2 shows a running environment (no polling then),
    and still turns to stopped when process 1 stops it."""
    token = cluster.tokens["alice"]
    with chromium_page(cluster.urls[1]) as page:
        log_in(page, "alice", PASSWORD)
        page.goto(f"/environments/{running}/")
        badge = page.locator("#status [data-status]")
        expect(badge).to_have_attribute("data-status", "running")
        expect(page.locator("[data-status-socket]")).to_have_attribute("data-state", "live", timeout=10_000)
        assert api(cluster.urls[0], "POST", f"/api/v1/environments/{running}/stop/", token)[0] == 202
        expect(badge).to_have_attribute("data-status", "stopped", timeout=60_000)
    api(cluster.urls[0], "POST", f"/api/v1/environments/{running}/start/", token)
    wait_status(cluster, token, running, {"running"})


async def test_shells_and_logs_work_on_the_process_that_did_not_create_it(cluster, running):
    token = cluster.tokens["alice"]
    async with socket_to(cluster.urls[1], f"/ws/environments/{running}/shell/", token) as shell:
        await shell.send(json.dumps({"type": "resize", "cols": 100, "rows": 30}))
        await shell.send(b"echo across-$((6*7))\r")
        seen = b""
        while b"across-42" not in seen:
            seen += await asyncio.wait_for(shell.recv(), 20)
    async with socket_to(cluster.urls[1], f"/ws/environments/{running}/logs/?tail=20", token) as logs:
        frame = json.loads(await asyncio.wait_for(logs.recv(), 20))
        assert frame["type"] == "lines" and frame["lines"]


def test_twenty_creates_across_both_processes_against_a_limit_of_three_leave_three(cluster):
    token, answers, start = cluster.tokens["bob"], [], threading.Barrier(20)

    def post(number):
        start.wait()
        answers.append(api(cluster.urls[number % 2], "POST", "/api/v1/environments/", token,
                           {"name": f"race-{number}", "preload": [], "cpus": 0.1, "memory_mb": 256}))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(code for code, _ in answers) == [201] * 3 + [409] * 17
    assert {body["error"] for code, body in answers if code == 409} == {"Quota exceeded: 3 of 3 environments in use."}
    made = [body["id"] for code, body in answers if code == 201]
    for pk in made:
        wait_status(cluster, token, pk, {"running", "error"})
        assert api(cluster.urls[1], "DELETE", f"/api/v1/environments/{pk}/", token)[0] == 202
    for pk in made:
        wait_status(cluster, token, pk, {None})


def test_each_queued_task_ran_once(cluster, running):
    query = "SELECT task_path, status, worker_ids FROM django_tasks_database_dbtaskresult"
    deadline = time.monotonic() + 30
    while any(status in ("READY", "RUNNING") for _, status, _ in cluster.sql(query)):
        assert time.monotonic() < deadline, "tasks still queued or running"
        time.sleep(0.2)
    rows = cluster.sql(query)
    assert rows
    for path, status, workers in rows:
        assert status == "SUCCESSFUL" and len(workers) == 1, (path, status, workers)


def test_a_periodic_job_runs_once_per_due_time(cluster):
    """Both schedulers tick every few seconds; a job made due runs in one of them only."""
    def claims():  # each line may be logged twice (daphne's root handler and ours)
        return len(set(re.findall(r"job reconcile claimed by process \d+ at \S+", cluster.log_text())))

    deadline = time.monotonic() + 30
    while not cluster.sql("SELECT id FROM environments_periodicjob WHERE name = 'reconcile'"):
        assert time.monotonic() < deadline, "no scheduler ever ran"
        time.sleep(0.5)
    before = claims()
    for _ in range(3):
        last = cluster.sql("SELECT last_run_at FROM environments_periodicjob WHERE name = 'reconcile'")[0][0]
        cluster.sql("UPDATE environments_periodicjob SET next_run_at = now() - interval '1 second'"
                    " WHERE name = 'reconcile' RETURNING id")
        deadline = time.monotonic() + 30
        while cluster.sql("SELECT last_run_at FROM environments_periodicjob WHERE name = 'reconcile'")[0][0] == last:
            assert time.monotonic() < deadline, "no scheduler ran the due job"
            time.sleep(0.2)
    time.sleep(6)  # more than a tick of each scheduler: a second claim would show by now
    assert claims() - before == 3


def test_a_claim_raced_by_several_processes_is_won_once(cluster):
    """The claim itself, raced by four processes at one instant on PostgreSQL."""
    when = datetime.now(timezone.utc) + timedelta(seconds=6)
    code = ("import django, sys, time; django.setup()\n"
            "from datetime import datetime\n"
            "from environments.jobs import claim\n"
            "from django.db import connection\n"
            "connection.ensure_connection()\n"
            "when = datetime.fromisoformat(sys.argv[1])\n"
            "time.sleep(max(0, when.timestamp() - time.time()))\n"
            "print('won' if claim('race-probe', 3600, now=when) else 'lost')\n")
    racers = [subprocess.Popen([sys.executable, "-c", code, when.isoformat()], cwd=ROOT, env=cluster.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [racer.communicate(timeout=60) for racer in racers]
    outcomes = sorted(out.strip() for out, _ in results)
    assert outcomes == ["lost", "lost", "lost", "won"], results
