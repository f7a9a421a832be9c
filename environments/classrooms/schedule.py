"""The classroom clock, run by the periodic jobs (jobs.py): warm a class at its
provisioning time, end it at its end time, delete its seats once the grace is over;
and measure the seats of classes under way for the trainer's grid."""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .. import audit
from ..engine import EngineError
from ..errors import DindwebError
from ..hosts import engine_for
from ..models import Classroom, Environment
from .classrooms import classroom_delete_seats, classroom_end, classroom_provision

log = logging.getLogger(__name__)


def run_classroom_clock(now=None) -> list[str]:
    now = now or timezone.now()
    done = []
    open_classes = Classroom.objects.filter(ended_at__isnull=True)
    for classroom in open_classes.filter(provision_at__lte=now, provisioned_at__isnull=True,
                                         ends_at__gt=now).select_related("template", "trainer"):
        try:
            queued = classroom_provision(classroom=classroom)
        except (DindwebError, EngineError) as exc:  # no room, or no engine: tried again next time
            log.warning("Classroom %s could not be provisioned: %s", classroom.pk, exc)
            continue
        audit.record(action="classroom.provision", target=str(classroom), detail=f"scheduled: {queued} seats")
        done.append(f"provisioned {classroom}")
    for classroom in open_classes.filter(ends_at__lte=now):
        try:
            stopped = classroom_end(classroom=classroom)
        except DindwebError:
            continue  # ended by its trainer meanwhile
        audit.record(action="classroom.end", target=str(classroom), detail=f"end time: {stopped} seats stopped")
        done.append(f"ended {classroom}")
    # Past its grace period, a class's seats lose their environments (rows stay, as results).
    over = Classroom.objects.filter(ended_at__isnull=False, seats__environment__isnull=False).distinct()
    for classroom in over:
        if classroom.ended_at + timedelta(minutes=classroom.grace_minutes) <= now:
            deleted = classroom_delete_seats(classroom=classroom)
            if deleted:
                audit.record(action="classroom.delete_seats", target=str(classroom), detail=f"{deleted} seats")
                done.append(f"deleted the seats of {classroom}")
    return done


def measure_seats(now=None) -> list[str]:
    """CPU and memory of every running seat of the classes under way, for the trainer's
    grid: one quick look per seat, several at once."""
    now = now or timezone.now()
    seats = list(Environment.objects.filter(
        status=Environment.Status.RUNNING, seat__classroom__ended_at__isnull=True).select_related("host"))

    def measure(environment):
        try:
            cpu_ns, memory = engine_for(environment.host).usage(environment.container_id)
        except EngineError:
            return None
        percent = None
        if environment.cpu_seen_at is not None and environment.cpu_seen_ns:
            seconds = max((now - environment.cpu_seen_at).total_seconds(), 0.5)
            percent = round(max(cpu_ns - environment.cpu_seen_ns, 0) / (seconds * 1e9) * 100, 1)
        Environment.objects.filter(pk=environment.pk).update(
            cpu_seen_ns=cpu_ns, cpu_seen_at=now, cpu_percent=percent, memory_used_mb=memory // (1024 * 1024))
        return environment.name

    with ThreadPoolExecutor(max_workers=settings.DINDWEB_BROADCAST_PARALLEL) as pool:
        return [name for name in pool.map(measure, seats) if name]
