"""Classrooms: made from a lab template, provisioned seat by seat in parallel, ended.

Provisioning queues one background task per seat; the worker pool (settings:
DINDWEB_INPROCESS_WORKERS, or `run_workers` processes) is the bound on how many are
made at once, so a class of thirty does not overwhelm the host.
"""

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .. import quotas, services
from ..engine import EngineError
from ..errors import Conflict, DindwebError, InvalidRequest
from ..models import Classroom, DockerHost, Environment, LabTemplate, Seat
from .seats import seat_provision

Status = Environment.Status
MAX_SEATS = 200


def _when(value, label: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = parse_datetime(value.strip()) if isinstance(value, str) and value.strip() else None
        except ValueError:  # well formed, but no such day or hour (February 30th)
            moment = None
        if moment is None:
            raise InvalidRequest(f"{label} must be a date and time, like 2026-12-04T09:00.")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def seats_in_use(trainer) -> int:
    """Seats of the trainer's classes that have not ended: what the classroom quota bounds."""
    return Seat.objects.filter(classroom__trainer=trainer, classroom__ended_at__isnull=True).count()


def check_seat_quota(trainer, adding: int) -> None:
    """Call inside the transaction that adds the seats, after locking the trainer."""
    limit = quotas.limits_for(trainer).max_classroom_seats
    used = seats_in_use(trainer)
    if used + adding > limit:
        raise quotas.QuotaExceeded(f"Quota exceeded: {used} of {limit} classroom seats in use,"
                                   f" and this needs {adding} more.")


def add_seats(classroom: Classroom, count: int, students=()) -> list[Seat]:
    """`count` seats, the first ones given to `students`; inside the caller's transaction."""
    services.lock_quota_of(classroom.trainer)
    check_seat_quota(classroom.trainer, count)
    start = (classroom.seats.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    students = list(students)
    now = timezone.now()
    return [Seat.objects.create(classroom=classroom, number=start + index,
                                student=students[index] if index < len(students) else None,
                                claimed_at=now if index < len(students) else None)
            for index in range(count)]


def classroom_create(*, trainer, template: LabTemplate, title, starts_at, ends_at, seats=0,
                     provision_at=None, grace_minutes=60, host: DockerHost | None = None) -> Classroom:
    title = (title or "").strip() if isinstance(title, str) else ""
    if not title:
        raise InvalidRequest("Give the class a title.")
    if len(title) > 120:
        raise InvalidRequest("The title is too long: use at most 120 characters.")
    starts_at, ends_at = _when(starts_at, "The start"), _when(ends_at, "The end")
    if ends_at <= starts_at:
        raise InvalidRequest("The class must end after it starts.")
    if ends_at <= timezone.now():
        raise InvalidRequest("The end is in the past.")
    provision_at = None if provision_at in (None, "") else _when(provision_at, "The provisioning time")
    if provision_at and provision_at > starts_at:
        raise InvalidRequest("Provision the seats before the class starts, not after.")
    seats = services.clean_number(seats or 0, label="Seats", low=0, high=MAX_SEATS, kind=int)
    grace = services.clean_number(grace_minutes if grace_minutes not in (None, "") else 60,
                                  label="The grace period (minutes)", low=0, high=60 * 24 * 30, kind=int)
    if host is not None and (not host.enabled or getattr(host, "draining", False)):
        raise InvalidRequest(f"The host {host} takes no new environments.")
    with transaction.atomic():
        classroom = Classroom.objects.create(
            trainer=trainer, template=template, title=title, starts_at=starts_at, ends_at=ends_at,
            provision_at=provision_at, grace_minutes=grace, host=host)
        add_seats(classroom, seats)
    return classroom


def classroom_provision(*, classroom: Classroom) -> int:
    """Queue an environment for every seat that has none; returns how many were queued."""
    if classroom.has_ended:
        raise Conflict("The class has ended.")
    if classroom.template is None:
        raise Conflict("The class's lab template was deleted: seats cannot be made.")
    queued = 0
    with transaction.atomic():
        # Locked, and read again: a class ended meanwhile gets no new seats.
        if Classroom.objects.select_for_update().filter(pk=classroom.pk, ended_at__isnull=False).exists():
            raise Conflict("The class has ended.")
        Classroom.objects.filter(pk=classroom.pk).update(provisioned_at=timezone.now())
        spec = classroom.template.spec()
        for seat in classroom.seats.filter(environment__isnull=True).select_related("classroom"):
            seat.spec = seat.spec or spec
            seat_provision(seat=seat)
            queued += 1
    classroom.provisioned_at = timezone.now()
    return queued


def classroom_end(*, classroom: Classroom, reason: str = "") -> int:
    """Stop every seat; they are deleted once the grace period is over. Returns how many
    seats were stopped."""
    with transaction.atomic():
        # The same lock as provisioning: seats queued before the end are all seen below.
        locked = Classroom.objects.select_for_update().filter(pk=classroom.pk, ended_at__isnull=True)
        if not locked.update(ended_at=timezone.now()):
            raise Conflict("The class has already ended.")
    classroom.refresh_from_db(fields=["ended_at"])
    stopped = 0
    for seat in classroom.seats.select_related("environment"):
        environment = seat.environment
        try:
            if environment is not None and environment.status in (Status.RUNNING, Status.ERROR):
                services.environment_stop(environment=environment, reason=reason or (
                    f"The class has ended. This seat is deleted at {classroom.delete_at:%Y-%m-%d %H:%M} UTC."))
                stopped += 1
            elif environment is not None and environment.status == Status.CREATING:
                # Not ready yet, so nothing of the student's in it: it would only start after the end.
                services.environment_delete(environment=environment)
        except DindwebError:
            continue  # it moved on meanwhile
    return stopped


def classroom_delete_seats(*, classroom: Classroom) -> int:
    """After the grace period: every seat's environment goes (the seats stay, as results)."""
    deleted = 0
    for seat in classroom.seats.select_related("environment"):
        if seat.environment is not None and seat.environment.status != Status.DELETING:
            try:
                services.environment_delete(environment=seat.environment)
                deleted += 1
            except DindwebError:
                continue
    return deleted


@dataclass
class CheckResult:
    seat: Seat
    exit_code: int | None
    output: str


def classroom_broadcast(*, classroom: Classroom, command, timeout=60) -> list[CheckResult]:
    """Run one shell command in every running seat at once and keep each result on its
    seat (the last check), e.g. a test that the exercise was done."""
    if not isinstance(command, str) or not command.strip():
        raise InvalidRequest("Type a command to run on every seat.")
    if len(command) > 500:
        raise InvalidRequest("The command is too long: use at most 500 characters.")
    timeout = services.clean_number(timeout, label="The timeout", low=1,
                                    high=settings.DINDWEB_MAX_EXEC_TIMEOUT, kind=int)
    seats = list(classroom.seats.select_related("environment__host", "student"))
    if not seats:
        raise Conflict("The class has no seats.")

    def run(seat: Seat) -> CheckResult:
        environment = seat.environment
        if environment is None or environment.status != Status.RUNNING:
            state = environment.status if environment else "not provisioned"
            return CheckResult(seat, None, f"Not run: the seat is {state}.")
        try:
            result = services.environment_exec(environment=environment, cmd=["bash", "-c", command],
                                               timeout=timeout)
        except (DindwebError, EngineError) as exc:
            return CheckResult(seat, None, f"Not run: {exc}")
        return CheckResult(seat, result.exit_code, result.output[-10_000:])

    with ThreadPoolExecutor(max_workers=settings.DINDWEB_BROADCAST_PARALLEL) as pool:
        results = list(pool.map(run, seats))
    now = timezone.now()
    for result in results:
        Seat.objects.filter(pk=result.seat.pk).update(
            last_check_command=command, last_check_exit_code=result.exit_code,
            last_check_output=result.output, last_check_at=now)
    return results


def seat_state(seat: Seat) -> str:
    """One word for the grid and the results: free, provisioning, ready, failed..."""
    environment = seat.environment
    if environment is None:
        return "not provisioned"
    return {Status.RUNNING: "ready", Status.ERROR: "failed", Status.CREATING: "provisioning"}.get(
        environment.status, environment.status)


def spreadsheet_safe(value) -> str:
    """A cell a spreadsheet shows as text: a student's output starting with = + - @ would
    otherwise run as a formula on the trainer's machine."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def classroom_results_csv(classroom: Classroom) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["seat", "student", "email", "status", "check command", "check exit code",
                     "check output", "checked at"])
    for seat in classroom.seats.select_related("student", "environment"):
        writer.writerow([spreadsheet_safe(cell) for cell in (
            seat.number, seat.student.get_username() if seat.student else "",
            seat.student.email if seat.student else "", seat_state(seat), seat.last_check_command,
            "" if seat.last_check_exit_code is None else seat.last_check_exit_code,
            seat.last_check_output, seat.last_check_at.isoformat() if seat.last_check_at else "")])
    return out.getvalue()


def classrooms_of(trainer):
    return Classroom.objects.filter(trainer=trainer).annotate(seat_count=Count("seats"))


def warning_for(classroom: Classroom, now=None) -> str:
    """What a student reads on their seat as the end nears or has passed."""
    now = now or timezone.now()
    if classroom.has_ended:
        return (f"The class has ended: this seat is stopped and will be deleted at"
                f" {classroom.delete_at:%Y-%m-%d %H:%M} UTC. Save what you want to keep.")
    if classroom.ends_at - now <= timedelta(minutes=settings.DINDWEB_CLASS_WARNING_MINUTES):
        return (f"The class ends at {classroom.ends_at:%H:%M} UTC: then this seat is stopped, and"
                f" deleted {classroom.grace_minutes} minutes later.")
    return ""
