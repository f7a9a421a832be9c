"""Periodic jobs: stop expired and idle environments, measure disks, reconcile.

They run in every web process (`manage.py serve`) or worker process with no extra
server. A job runs only in the process that moves its next_run_at on, in one
conditional update, so with several processes each run happens once; each stop is a
status change from running that succeeds once. Schedules live in the database, so they
survive a restart.
"""

import logging
import os
import threading
from datetime import timedelta

from django.db import close_old_connections
from django.utils import timezone

from . import audit, quotas, services
from .engine import EngineError
from .errors import DindwebError
from .host_health import check_hosts
from .hosts import engine_for
from .models import Environment, PeriodicJob
from .classrooms.schedule import measure_seats, run_classroom_clock
from .reconcile import reconcile

log = logging.getLogger(__name__)
Status = Environment.Status

# Nested containers using more than this share of a CPU between two looks keep an
# environment from counting as idle (an idle nested dockerd uses far less).
BUSY_CPU_SHARE = 0.05


def _stop(environment: Environment, reason: str) -> bool:
    try:
        services.environment_stop(environment=environment, reason=reason)
    except DindwebError:
        return False  # it moved on meanwhile (stopped by its owner, or by another process)
    audit.record(action="environment.stop", target=str(environment), detail=reason)
    return True


def stop_expired(now=None) -> list[str]:
    now = now or timezone.now()
    stopped = []
    # On a host that is down the stop would only fail; it happens once the host is back.
    expired = Environment.objects.filter(status=Status.RUNNING, expires_at__lte=now, host__answering=True)
    for environment in expired:
        reason = (f"Stopped: its lifetime ended at {environment.expires_at:%Y-%m-%d %H:%M} UTC. Nothing"
                  " was deleted; extend its lifetime to start it again.")
        if _stop(environment, reason):
            stopped.append(str(environment))
    return stopped


def _nested_cpu_busy(environment: Environment, now) -> bool | None:
    """Compare the environment's CPU time with the last look, and remember this one.
    None when there is no earlier look to compare with (or the engine did not answer)."""
    try:
        used_ns = engine_for(environment.host).cpu_time_ns(environment.container_id)
    except EngineError:
        return None
    busy = None
    if environment.cpu_seen_at is not None and environment.cpu_seen_ns:
        seconds = max((now - environment.cpu_seen_at).total_seconds(), 1)
        busy = (used_ns - environment.cpu_seen_ns) / (seconds * 1e9) > BUSY_CPU_SHARE
    Environment.objects.filter(pk=environment.pk).update(cpu_seen_ns=used_ns, cpu_seen_at=now)
    return busy


def stop_idle(now=None) -> list[str]:
    """Idle: no shell or log viewer attached, nobody active for the quota's idle time, and
    no nested container using CPU."""
    now = now or timezone.now()
    stopped = []
    # Classroom seats live as long as their class (classrooms/schedule.py), idle or not.
    candidates = Environment.objects.personal().filter(status=Status.RUNNING, attached=0).select_related(
        "owner", "host")
    for environment in candidates:
        limit = quotas.limits_for(environment.owner).max_idle_minutes
        if not limit:
            continue
        last = max(filter(None, [environment.last_activity_at, environment.started_at]), default=None)
        if last is None or now - last < timedelta(minutes=limit):
            continue
        busy = _nested_cpu_busy(environment, now)
        if busy is None:
            continue  # nothing to compare with yet: decide at the next look
        if busy:
            Environment.objects.filter(pk=environment.pk).update(last_activity_at=now)
            continue
        reason = (f"Stopped: idle for more than {limit} minutes (no shell, no log viewer, no busy"
                  " nested container). Nothing was deleted; start it again when you need it.")
        if _stop(environment, reason):
            stopped.append(str(environment))
    return stopped


def measure_disks() -> list[str]:
    """Measure each running environment's /var/lib/docker; stop those over their bound."""
    stopped = []
    for environment in Environment.objects.filter(status=Status.RUNNING).select_related("owner", "host"):
        bound = quotas.limits_for(environment.owner).disk_mb
        try:
            result = engine_for(environment.host).exec(
                environment.container_id, ["du", "-sm", "-x", "/var/lib/docker"], timeout=120)
            used = int(result.output.split()[0])
        except (EngineError, ValueError, IndexError):
            continue
        Environment.objects.filter(pk=environment.pk).update(disk_used_mb=used)
        if bound and used >= bound:
            reason = (f"Stopped: its Docker data uses {used} MB, over the quota of {bound} MB."
                      " Nothing was deleted; start it and remove images or containers to make room.")
            if _stop(environment, reason):
                stopped.append(str(environment))
    return stopped


def cull(now=None) -> list[str]:
    return stop_expired(now) + stop_idle(now)


JOBS = {
    # name: (seconds between runs, function)
    "cull": (30, cull),
    "measure-disks": (300, measure_disks),
    "reconcile": (300, reconcile),
    "classrooms": (15, run_classroom_clock),
    "measure-seats": (10, measure_seats),
    # Marks Docker hosts down and up again; placement trusts what it last saw.
    "check-hosts": (15, check_hosts),
}


def claim(name: str, every_seconds: int, now=None) -> bool:
    """True for exactly one caller per due run, whichever process it is in."""
    now = now or timezone.now()
    PeriodicJob.objects.get_or_create(name=name, defaults={"next_run_at": now})
    return bool(PeriodicJob.objects.filter(name=name, next_run_at__lte=now).update(
        next_run_at=now + timedelta(seconds=every_seconds), last_run_at=now))


def run_due_jobs(now=None) -> dict[str, list]:
    done = {}
    for name, (every, job) in JOBS.items():
        if claim(name, every, now):
            # Tests count these claims; the time tells one claim from another.
            log.debug("job %s claimed by process %s at %s", name, os.getpid(), timezone.now().isoformat())
            done[name] = job()
    return done


class Scheduler:
    """A thread that runs due jobs every few seconds, in the process that serves."""

    def __init__(self, tick_seconds: float = 5):
        self.tick = tick_seconds
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="dindweb-scheduler", daemon=True)

    def start(self) -> "Scheduler":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        while not self.stopping.wait(self.tick):
            close_old_connections()
            try:
                for name, result in run_due_jobs().items():
                    if result:
                        log.info("job %s: %s", name, result)
            except Exception:  # noqa: BLE001 - a failed run must not end the schedule
                log.exception("Periodic jobs failed; trying again at the next tick.")
