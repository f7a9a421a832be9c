"""One seat: its environment made from the lab (provision, reset), and claiming it.

A seat's environment belongs to the trainer (it counts against the trainer's classroom
quota, never the student's own); the student reaches it through the seat (access.py).
"""

import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import placement, quotas, services, tasks
from ..errors import Conflict
from ..models import Classroom, Environment, Seat

Status = Environment.Status


def _new_environment(seat: Seat) -> Environment:
    """The row of a seat's next environment, saved as creating; the caller queues it.
    It goes to the classroom's pinned host, else wherever placement finds room."""
    classroom, spec = seat.classroom, seat.spec
    cpus, memory_mb = Decimal(spec["cpus"]), spec["memory_mb"]
    host = placement.choose_host(cpus=cpus, memory_mb=memory_mb, pinned=classroom.host)
    environment = Environment(
        owner=classroom.trainer, host=host,
        name=f"class{classroom.pk}-seat{seat.number}-{seat.generation}", key=secrets.token_hex(6),
        cpus=cpus, memory_mb=memory_mb,
        pids_limit=quotas.limits_for(classroom.trainer).pids_per_environment,
        preload=spec["preload"], setup_script=spec["setup_script"],
        run_containers=spec["run_containers"], status=Status.CREATING,
        # A seat lives as long as its class: the class's end stops it, not a lifetime.
        status_detail="Waiting for a worker.", expires_at=None,
    )
    try:
        with transaction.atomic():
            placement.check_room(host, cpus=cpus, memory_mb=memory_mb)
            environment.save()
    except IntegrityError:
        raise Conflict(f"{classroom.trainer} already has an environment named {environment.name}.") from None
    return environment


def seat_provision(*, seat: Seat) -> Environment:
    """Make the seat's environment from the lab as it is now, unless it has one."""
    if seat.environment_id:
        raise Conflict(f"Seat {seat.number} already has an environment: reset it instead.")
    if seat.classroom.has_ended:
        raise Conflict("The class has ended.")
    if seat.classroom.template is None and not seat.spec:
        raise Conflict("The class's lab template was deleted.")
    with transaction.atomic():
        if not seat.spec:
            seat.spec = seat.classroom.template.spec()
        environment = _new_environment(seat)
        seat.environment = environment
        seat.save(update_fields=["spec", "environment"])
        transaction.on_commit(lambda: tasks.provision_environment.enqueue(environment.pk))
    return environment


def seat_reset(*, seat: Seat) -> Environment:
    """Back to the lab's state: the old environment is deleted, a new one made from the
    same copy of the lab. Also how a failed seat is tried again."""
    if seat.classroom.has_ended:
        raise Conflict("The class has ended.")
    with transaction.atomic():
        old = seat.environment
        if old is not None and old.status != Status.DELETING:
            services.environment_delete(environment=old)
        seat.environment = None
        seat.generation += 1
        seat.last_check_exit_code, seat.last_check_output, seat.last_check_at = None, "", None
        seat.save(update_fields=["environment", "generation", "last_check_exit_code",
                                 "last_check_output", "last_check_at"])
        return seat_provision(seat=seat)


def seat_claim(*, classroom: Classroom, student) -> Seat:
    """Give `student` a free seat of the class (or the one they have). Two students
    racing for the last seat: one conditional update wins, the other hears it is full."""
    mine = classroom.seats.filter(student=student).first()
    if mine is not None:
        return mine
    if classroom.has_ended:
        raise Conflict("This class has ended.")
    if student.pk == classroom.trainer_id:
        raise Conflict("You are this class's trainer: open its seats from the classroom page.")
    while True:
        free = classroom.seats.filter(student__isnull=True).order_by("number").first()
        if free is None:
            raise Conflict("This class is full: ask your trainer for a seat.")
        try:
            with transaction.atomic():
                taken = Seat.objects.filter(pk=free.pk, student__isnull=True).update(
                    student=student, claimed_at=timezone.now())
        except IntegrityError:
            # The same student, claiming twice at once: the other request won.
            return classroom.seats.get(student=student)
        if taken:
            free.refresh_from_db()
            return free
        # Someone took that seat between our read and our update: try the next one.
