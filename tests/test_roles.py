"""Roles on the environment endpoints: admins see and act on everything; trainers and
other developers do not see a developer's environments."""

import pytest
from django.contrib.auth.models import Group

from environments import services

from .conftest import api_client_for, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin(django_user_model):
    user = make_user(django_user_model, "ada")
    user.groups.add(Group.objects.get_or_create(name="admin")[0])
    return user


@pytest.fixture
def trainer(django_user_model):
    user = make_user(django_user_model, "tom")
    user.groups.add(Group.objects.get_or_create(name="trainer")[0])
    return user


def test_an_admin_sees_and_acts_on_everyones_environments(alice, admin, trainer, client):
    environment = services.environment_create(owner=alice, name="alices", preload=[])
    as_admin = api_client_for(admin)
    assert as_admin.get(f"/api/v1/environments/{environment.pk}/").json()["owner"] == "alice"
    client.force_login(admin)
    assert client.get(f"/environments/{environment.pk}/").status_code == 200
    assert as_admin.post(f"/api/v1/environments/{environment.pk}/extend/", {"minutes": 30},
                         format="json").status_code == 200
    as_trainer = api_client_for(trainer)
    assert as_trainer.get(f"/api/v1/environments/{environment.pk}/").status_code == 404
    assert as_trainer.post(f"/api/v1/environments/{environment.pk}/stop/").status_code == 404
    assert as_admin.delete(f"/api/v1/environments/{environment.pk}/").status_code == 202
