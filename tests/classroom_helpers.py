"""Building blocks of the classroom tests: a trainer, a lab, a class, and clean-up."""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from environments import services
from environments.classrooms.classrooms import classroom_create, classroom_provision
from environments.classrooms.lab_templates import lab_template_save
from environments.models import Environment

from .conftest import PASSWORD, wait_for


def make_trainer(django_user_model, username="tess"):
    user = django_user_model.objects.create_user(username, f"{username}@example.com", PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="trainer")[0])
    return user


def make_lab(trainer, **fields):
    values = {"name": "Docker 101", "instructions": "# Welcome\n\nRun `docker ps`.", "preload": [],
              "memory_mb": 512, **fields}
    return lab_template_save(owner=trainer, **values)


def make_class(trainer, lab, seats=1, **fields):
    now = timezone.now()
    values = {"title": "Morning class", "starts_at": now, "ends_at": now + timedelta(hours=2), "seats": seats,
              **fields}
    return classroom_create(trainer=trainer, template=lab, **values)


def provision_and_wait(classroom, statuses=("running",), timeout=240):
    classroom_provision(classroom=classroom)
    return [wait_for(seat.environment_id, set(statuses), timeout=timeout)
            for seat in classroom.seats.all()]


def remove_seat_environments(classroom):
    """Delete every environment the class's seats made (any generation) and wait."""
    names = f"class{classroom.pk}-seat"
    pks = list(Environment.objects.filter(name__startswith=names).values_list("pk", flat=True))
    for pk in pks:
        environment = Environment.objects.filter(pk=pk).first()
        if environment is None or environment.status == "deleting":
            continue
        if environment.is_busy:
            environment = wait_for(environment, {"running", "stopped", "error"}, timeout=240)
        services.environment_delete(environment=environment)
    for pk in pks:
        wait_for(pk, {None}, timeout=120)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
