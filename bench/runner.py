"""What every benchmark shares: a dindweb server started as `make run` starts it but
isolated (its own state directory and SQLite database, engine label `bench`), its JSON
API, the engine seen through docker-py for measuring, and the labels and clean-up that
make sure a run leaves nothing behind, even when interrupted."""

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = "bench"  # the server's engine label: its reconcile never sees anyone else's objects
USERNAME = "bench"
IMAGE = os.getenv("DINDWEB_DIND_IMAGE", "dindweb/dind:latest")
NESTED_IMAGE = "dindweb/busybox:latest"
ENGINE_URL = os.getenv("DOCKER_HOST", "unix:///var/run/docker.sock")
# Labels of the bare (baseline) objects. Never dindweb.instance: the server's reconcile
# would take them for orphans of its own and remove them mid-run.
LABEL, LABEL_RUN, LABEL_PID = "dindweb.bench", "dindweb.bench.run", "dindweb.bench.pid"


class BenchError(Exception):
    """A benchmark could not run; the message says why."""


@dataclass(frozen=True)
class Limits:
    """What every environment gets, on both sides: dindweb's defaults for one environment."""

    cpus: float = 1.0
    memory_mb: int = 1024
    pids: int = 2048


LIMITS = Limits()


def say(text: str) -> None:
    print(text, flush=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Run by `manage.py shell -c`: the bench user with a quota roomy enough for the density
# run (the site default allows five environments), never idle-stopped.
_SETUP = """
import os
from django.contrib.auth import get_user_model
from environments.hosts import default_host
from environments.models import AllowedImage, Quota
default_host()
AllowedImage.objects.get_or_create(reference=os.environ["BENCH_NESTED_IMAGE"])
user = get_user_model().objects.create_user(os.environ["BENCH_USER"], password=os.environ["BENCH_PASSWORD"])
Quota.objects.create(user=user, max_environments=100000, max_cpus=9999, max_memory_mb=1000000000,
                     pids_per_environment=int(os.environ["BENCH_PIDS"]), max_idle_minutes=0, disk_mb=0)
"""


class Server:
    """`manage.py serve` on a free port, after `migrate`, with DINDWEB_STATE_DIR in a temp dir."""

    def __init__(self, *, workers: int):
        self.state_dir = Path(tempfile.mkdtemp(prefix="dindweb-bench-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.password = secrets.token_urlsafe(18)
        # The embedded default, whatever the caller's shell exports: SQLite in the state
        # dir, the in-memory channel layer, DEBUG off (it keeps every query in memory).
        env = {key: value for key, value in os.environ.items()
               if key not in ("DATABASE_URL", "REDIS_URL", "DINDWEB_SQLITE_PATH", "DEBUG",
                              "DJANGO_SETTINGS_MODULE")}
        self.env = {**env, "DINDWEB_STATE_DIR": str(self.state_dir), "DINDWEB_INSTANCE": INSTANCE,
                    "DINDWEB_INPROCESS_WORKERS": str(workers), "DINDWEB_DIND_IMAGE": IMAGE,
                    "DJANGO_SETTINGS_MODULE": "dindweb.settings", "PYTHONUNBUFFERED": "1",
                    # A class or a density run creates far more than a person would in a minute.
                    "DINDWEB_CREATE_RATE": "100000/min"}
        self.process: subprocess.Popen | None = None
        self.token = ""
        self.cookie = ""

    @property
    def database(self) -> Path:
        return self.state_dir / "dindweb.sqlite3"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "server.log"

    def _manage(self, *args: str, env: dict | None = None) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise BenchError(f"manage.py {args[0]} failed: {(done.stderr or done.stdout).strip()[-2000:]}")
        return done.stdout

    def start(self) -> "Server":
        self._manage("migrate", "--noinput", "-v", "0")
        self._manage("shell", "-c", _SETUP, env={"BENCH_USER": USERNAME, "BENCH_PASSWORD": self.password,
                                                  "BENCH_PIDS": str(LIMITS.pids), "BENCH_NESTED_IMAGE": NESTED_IMAGE})
        self.token = self._manage("api_token", USERNAME).strip().splitlines()[-1]
        with open(self.log_path, "wb") as log:
            # A session of its own: Ctrl-C in the terminal reaches the bench, which still
            # needs the server to delete its environments through the API.
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.request("GET", "/accounts/login/", auth=None, timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"The server did not start: {self.log_tail()}")
            time.sleep(0.2)
        self.cookie = self._login()
        return self

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_bytes(self) -> int:
        """The server process's resident memory."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for row in status:
                if row.startswith("VmRSS:"):
                    return int(row.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        """SIGINT, as Ctrl-C in `make run` would: daphne stops, then the workers finish."""
        if not self.alive():
            return
        for sig, wait in ((signal.SIGINT, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.kill(self.process.pid, sig)
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return

    def remove_state(self) -> None:
        shutil.rmtree(self.state_dir, ignore_errors=True)

    # --- HTTP -------------------------------------------------------------------------

    def request(self, method: str, path: str, body=None, *, auth: str | None = "token",
                form: dict | None = None, cookie: str | None = None, timeout: float = 120):
        """(status, headers, body bytes), on a connection of its own (safe from any thread)."""
        headers = {}
        if auth == "token":
            headers["Authorization"] = f"Token {self.token}"
        elif auth == "session":
            headers["Cookie"] = self.cookie
        if cookie:
            headers["Cookie"] = cookie
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, response.msg, response.read()
        finally:
            connection.close()

    def api(self, method: str, path: str, body=None, ok=(200, 201, 202)):
        status, _, payload = self.request(method, "/api/v1" + path, body)
        if status not in ok:
            raise BenchError(f"{method} /api/v1{path} answered {status}: {payload[:500].decode(errors='replace')}")
        return json.loads(payload) if payload else None

    def _login(self) -> str:
        """A session cookie for the pages, through the login form as a browser gets one."""
        status, headers, _ = self.request("GET", "/accounts/login/", auth=None)
        jar = SimpleCookie()
        for value in headers.get_all("Set-Cookie") or []:
            jar.load(value)
        csrf = jar["csrftoken"].value
        status, headers, body = self.request(
            "POST", "/accounts/login/", auth=None, cookie=f"csrftoken={csrf}",
            form={"username": USERNAME, "password": self.password, "csrfmiddlewaretoken": csrf})
        for value in headers.get_all("Set-Cookie") or []:
            jar.load(value)
        if status != 302 or "sessionid" not in jar:
            raise BenchError(f"Logging in as {USERNAME} failed ({status}).")
        return f"csrftoken={csrf}; sessionid={jar['sessionid'].value}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    # --- environments through the API -------------------------------------------------

    def create(self, name: str, *, preload: list[str] | None = None) -> dict:
        body = {"name": name, "cpus": LIMITS.cpus, "memory_mb": LIMITS.memory_mb,
                "preload": [] if preload is None else preload}
        return self.api("POST", "/environments/", body, ok=(201,))

    def wait_running(self, ids: list[int], *, timeout: float, poll: float = 0.25) -> dict[int, dict]:
        """Poll the list until every one of `ids` runs; their rows, by id."""
        rows: dict[int, dict] = {}
        deadline = time.monotonic() + timeout
        wanted = set(ids)
        while rows.keys() < wanted:
            if time.monotonic() > deadline:
                raise BenchError(f"{len(wanted - rows.keys())} of {len(wanted)} environments were not"
                                 f" running after {timeout:.0f} s.")
            time.sleep(poll)
            for row in self.api("GET", "/environments/"):
                if row["id"] in wanted and row["status"] == "running":
                    rows[row["id"]] = row
                elif row["id"] in wanted and row["status"] == "error":
                    raise BenchError(f"Environment {row['name']} failed: {row['status_detail']}")
        return rows

    def create_and_wait(self, name: str, *, preload=None, poll: float = 0.25,
                        timeout: float = 180) -> tuple[float, float, dict]:
        """Seconds from the POST until the status became running, by the moment the server
        recorded (`started_at`, same machine, same clock), so that neither the client's
        polling interval nor the load of its polling counts; then the seconds until this
        client saw it, and the row."""
        began, began_wall = time.perf_counter(), time.time()
        environment = self.create(name, preload=preload)
        deadline = time.monotonic() + timeout
        while True:
            time.sleep(poll)
            environment = self.api("GET", f"/environments/{environment['id']}/")
            if environment["status"] == "running":
                return started(environment) - began_wall, time.perf_counter() - began, environment
            if environment["status"] == "error":
                raise BenchError(f"Environment {name} failed: {environment['status_detail']}")
            if time.monotonic() > deadline:
                raise BenchError(f"Environment {name} was not running after {timeout:.0f} s.")

    def delete_all(self, *, timeout: float = 300) -> None:
        """DELETE every environment of the bench user and wait until they are gone."""
        rows = self.api("GET", "/environments/")
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda row: self.api("DELETE", f"/environments/{row['id']}/", ok=(202, 404, 409)),
                          [row for row in rows if row["status"] != "deleting"]))
        deadline = time.monotonic() + timeout
        while rows:
            if time.monotonic() > deadline:
                raise BenchError(f"{len(rows)} environments were still there {timeout:.0f} s after DELETE.")
            time.sleep(0.3)
            rows = self.api("GET", "/environments/")
            for row in rows:
                if row["status"] == "error":  # a failed delete says "Try again."
                    self.api("DELETE", f"/environments/{row['id']}/", ok=(202, 404, 409))

    def environment_keys(self) -> list[str]:
        """The engine keys of every environment row left in this server's database."""
        if not self.database.exists():
            return []
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            return [row[0] for row in db.execute("SELECT key FROM environments_environment")]


# --- the engine, for measuring and cleaning up -------------------------------------------

_engine: docker.DockerClient | None = None


def engine() -> docker.DockerClient:
    global _engine
    if _engine is None:
        _engine = docker.DockerClient(base_url=ENGINE_URL, version="auto", timeout=120)
    return _engine


def environment_container(name: str):
    """The engine container of the bench user's environment `name`."""
    found = engine().containers.list(all=True, filters={"label": [
        f"dindweb.instance={INSTANCE}", f"dindweb.owner={USERNAME}", f"dindweb.environment.name={name}"]})
    if len(found) != 1:
        raise BenchError(f"Expected one container for environment {name}, found {len(found)}.")
    return found[0]


def memory_bytes(container_ids: list[str]) -> list[dict]:
    """Each container's memory: what `docker stats` shows (cgroup usage less the inactive
    page cache) and the usage less all page cache."""
    api = engine().api

    def one(container_id):
        stats = api.stats(container_id, stream=False, one_shot=True)
        memory = stats.get("memory_stats") or {}
        details = memory.get("stats") or {}
        usage = memory.get("usage", 0)
        inactive = details.get("total_inactive_file", details.get("inactive_file", 0))
        cache = details.get("total_cache", details.get("file", 0))
        return {"docker_stats": usage - inactive, "no_cache": usage - cache}

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, container_ids))


class Run:
    """This run's identity and the labels of the bare objects it makes."""

    def __init__(self):
        self.id = secrets.token_hex(3)
        self.labels = {LABEL: "1", LABEL_RUN: self.id, LABEL_PID: str(os.getpid())}
        self.names = 0
        self._lock = threading.Lock()

    def name(self, what: str) -> str:
        with self._lock:
            self.names += 1
            return f"dwbench-{self.id}-{what}-{self.names}"

    def remove_bare(self) -> int:
        return remove_labelled([f"{LABEL_RUN}={self.id}"])


def remove_labelled(label_filters: list[str], keep=lambda labels: False) -> int:
    """Remove containers, then networks, then volumes carrying all of `label_filters`."""
    client = engine()
    selector = {"label": label_filters}
    containers = [c for c in client.containers.list(all=True, filters=selector) if not keep(c.labels)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda c: _quietly(c.remove, force=True), containers))
    networks = [n for n in client.networks.list(filters=selector) if not keep(n.attrs.get("Labels") or {})]
    volumes = [v for v in client.volumes.list(filters=selector) if not keep(v.attrs.get("Labels") or {})]
    for item in networks:
        _quietly(item.remove)
    for item in volumes:
        _quietly(item.remove, force=True)
    return len(containers) + len(networks) + len(volumes)


def _quietly(fn, *args, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except docker.errors.NotFound:
        pass


def _bench_alive(labels: dict) -> bool:
    """True when the bench process that made an object still runs."""
    try:
        cmdline = Path(f"/proc/{int(labels.get(LABEL_PID, 0))}/cmdline").read_bytes()
    except (OSError, ValueError):
        return False
    return b"bench" in cmdline


def remove_abandoned() -> int:
    """Bare objects of earlier runs that were killed before cleaning up (their process is gone)."""
    return remove_labelled([f"{LABEL}=1"], keep=_bench_alive)


def remove_environment_objects(keys: list[str]) -> int:
    """Safety net after the server stopped: engine objects of rows still in our database."""
    removed = 0
    for key in keys:
        removed += remove_labelled([f"dindweb.instance={INSTANCE}", f"dindweb.environment={key}"])
    return removed


def started(row: dict) -> float:
    """When the server recorded the environment as running (epoch seconds)."""
    return datetime.fromisoformat(row["started_at"]).timestamp()

