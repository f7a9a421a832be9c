"""Debian's redis-server and PostgreSQL, started by the suite itself for the several-process
cases: on loopback, on free ports, with their data under a temporary folder, stopped at
the end. The programs come from `scripts/ensure-services.sh`; a missing one fails the
run (in CI too), it never skips."""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import redis

INSTALL_HINT = "run `bash scripts/ensure-services.sh` (as root) to install it"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(check, what: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    """Call `check` until it stops raising; fail with the log's tail if the process ends
    or `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except Exception:  # noqa: BLE001 - not up yet
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"{what} did not start: {log.read_text()[-2000:]}", pytrace=False)
            time.sleep(0.1)


def _stop(process: subprocess.Popen, signum=signal.SIGTERM) -> None:
    process.send_signal(signum)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    program = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(program):
        pytest.fail(f"redis-server is not installed: {INSTALL_HINT}.", pytrace=False)
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    log = folder / "redis.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [program, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    wait_until_up(lambda: redis.Redis.from_url(url, socket_timeout=1).ping(), "redis-server", process, log)
    yield url
    _stop(process)


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not found:
        pytest.fail(f"PostgreSQL is not installed: {INSTALL_HINT}.", pytrace=False)
    return Path(found[-1]).parent


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server of the suite's own; its URL names the database `dindweb`.
    PostgreSQL refuses to run as root, so as root it runs as Debian's `postgres` user,
    with its data in a folder made for that user."""
    bin_dir = _postgres_bin()
    as_user = {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}
    folder = Path(tempfile.mkdtemp(prefix="dindweb-test-postgres-"))
    if as_user:
        shutil.chown(folder, "postgres", "postgres")
    data, log = folder / "data", folder / "postgres.log"
    env = {**os.environ, "HOME": str(folder), "LC_ALL": "C.UTF-8"}
    subprocess.run([bin_dir / "initdb", "-D", data, "-U", "dindweb", "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True, env=env, cwd=folder, **as_user)
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [bin_dir / "postgres", "-D", data, "-h", "127.0.0.1", "-p", str(port), "-k", folder,
             # Test data only: durability traded for speed.
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder, **as_user)
    admin = f"postgresql://dindweb@127.0.0.1:{port}/postgres"
    wait_until_up(lambda: psycopg.connect(admin, connect_timeout=2).close(), "PostgreSQL", process, log)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("CREATE DATABASE dindweb")
    yield f"postgres://dindweb@127.0.0.1:{port}/dindweb"
    _stop(process, signal.SIGINT)  # PostgreSQL's fast shutdown: it does not wait for clients
    shutil.rmtree(folder, ignore_errors=True)
