"""Who may see which classroom, template or seat: the trainer who owns it and admins;
a student sees their own seat only. Everything else answers 404, so ids cannot be probed."""

from django.http import Http404

from ..models import Classroom, LabTemplate, Seat
from ..roles import is_admin, is_trainer


def require_trainer(user) -> None:
    """Classroom pages are for trainers (and admins); to others they do not exist."""
    if not is_trainer(user):
        raise Http404("Classroom labs are for trainers.")


def templates_visible_to(user):
    if not is_trainer(user):
        return LabTemplate.objects.none()
    return LabTemplate.objects.all() if is_admin(user) else LabTemplate.objects.filter(owner=user)


def classrooms_visible_to(user):
    if not is_trainer(user):
        return Classroom.objects.none()
    queryset = Classroom.objects.select_related("trainer", "template", "host")
    return queryset if is_admin(user) else queryset.filter(trainer=user)


def _get(queryset, pk, what: str):
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404(f"No such {what}.") from None


def template_for_user(user, pk) -> LabTemplate:
    return _get(templates_visible_to(user), pk, "lab template")


def classroom_for_user(user, pk) -> Classroom:
    return _get(classrooms_visible_to(user), pk, "classroom")


def seat_for_user(user, pk) -> Seat:
    """The student's own seat, or any seat of a class the user runs."""
    seats = Seat.objects.select_related("classroom", "environment", "student", "classroom__trainer")
    if not user.is_authenticated:
        raise Http404("No such seat.")
    if is_admin(user):
        return _get(seats, pk, "seat")
    seat = _get(seats, pk, "seat")
    if seat.student_id == user.pk or seat.classroom.trainer_id == user.pk:
        return seat
    raise Http404("No such seat.")


def runs_class_of(user, classroom) -> bool:
    """The class's trainer, or an admin: they may reset, watch and help."""
    return is_admin(user) or classroom.trainer_id == user.pk
