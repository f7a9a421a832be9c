"""Roles are Django groups: admin, trainer and developer (everyone's default)."""

from django.contrib.auth.models import Group

ADMIN, TRAINER, DEVELOPER = "admin", "trainer", "developer"


def is_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.groups.filter(name=ADMIN).exists())


def make_developer(user) -> None:
    """New accounts start as developers."""
    group, _ = Group.objects.get_or_create(name=DEVELOPER)
    user.groups.add(group)


def is_trainer(user) -> bool:
    """Trainers (and admins) run classroom labs."""
    return user.is_authenticated and (
        user.is_superuser or user.groups.filter(name__in=[TRAINER, ADMIN]).exists())
