"""Usage and quota pages, as admin, trainer, developer and anonymous."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from environments import services
from environments.models import Quota
from environments.quota_services import quota_set

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(django_user_model, alice, bob):
    admin = make_user(django_user_model, "root-admin")
    admin.groups.add(Group.objects.get_or_create(name="admin")[0])
    trainer = make_user(django_user_model, "tina")
    trainer.groups.add(Group.objects.get_or_create(name="trainer")[0])

    def client_for(user):
        client = Client()
        if user is not None:
            client.login(username=user.username, password=PASSWORD)
        return client

    return {"admin": client_for(admin), "trainer": client_for(trainer), "developer": client_for(alice),
            "other": client_for(bob), "anonymous": client_for(None)}


def test_new_users_are_developers(alice):
    assert list(alice.groups.values_list("name", flat=True)) == ["developer"]


def test_everyone_logged_in_sees_their_usage(people, alice):
    quota_set(user=alice, max_environments=4)
    services.environment_create(owner=alice, name="counted", preload=[])
    page = people["developer"].get("/usage/").content.decode()
    assert "your own quota" in page and "<td>Environments</td><td>1</td><td>4</td>" in page and "counted" in page
    assert "<td>Environments</td><td>0</td>" in people["other"].get("/usage/").content.decode()
    response = people["anonymous"].get("/usage/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/quotas/", "/quotas/overview/"])
def test_quota_pages_are_for_admins(people, path):
    assert people["admin"].get(path).status_code == 200
    for role in ("trainer", "developer", "other"):
        assert people[role].get(path).status_code == 404, role
    assert people["anonymous"].get(path).status_code == 302


def test_an_admin_sets_changes_and_removes_quotas(people, alice):
    admin = people["admin"]
    fields = {"new-max_environments": 2, "new-max_cpus": 1, "new-max_memory_mb": 2048,
              "new-pids_per_environment": 500, "new-max_lifetime_minutes": 60, "new-max_idle_minutes": 15,
              "new-disk_mb": 1000, "new-max_classroom_seats": 10}
    response = admin.post("/quotas/new/", {"scope": "user", "username": "alice", **fields})
    assert response.status_code == 302
    quota = Quota.objects.get(user=alice)
    assert (quota.max_environments, quota.pids_per_environment) == (2, 500)
    assert "Quota of alice saved." in admin.get("/quotas/").content.decode()

    edit = {key.replace("new-", f"q{quota.pk}-"): value for key, value in fields.items()}
    admin.post(f"/quotas/{quota.pk}/", {**edit, f"q{quota.pk}-max_environments": 7})
    assert Quota.objects.get(pk=quota.pk).max_environments == 7

    bad = admin.post("/quotas/new/", {"scope": "user", "username": "nobody", **fields}, follow=True)
    assert "There is no user named nobody." in bad.content.decode()
    negative = admin.post(f"/quotas/{quota.pk}/", {**edit, f"q{quota.pk}-max_cpus": -1}, follow=True)
    assert "Ensure this value is greater than or equal to 0" in negative.content.decode()

    default = Quota.objects.get(user__isnull=True, group__isnull=True)
    refused = admin.post(f"/quotas/{default.pk}/remove/", follow=True)
    assert "The site default quota cannot be removed" in refused.content.decode()
    admin.post(f"/quotas/{quota.pk}/remove/")
    assert not Quota.objects.filter(user=alice).exists()

    # Nobody else may change quotas.
    for role in ("trainer", "developer"):
        assert people[role].post(f"/quotas/{default.pk}/", {}).status_code == 404
        assert people[role].post("/quotas/new/", {"scope": "user", "username": "alice", **fields}).status_code == 404
    assert people["anonymous"].post("/quotas/new/", {}).status_code == 302


def test_the_overview_shows_everyones_use_and_the_hosts(people, alice):
    services.environment_create(owner=alice, name="seen", preload=[], cpus=0.5, memory_mb=512)
    page = people["admin"].get("/quotas/overview/").content.decode()
    assert "<td>alice</td><td>1 of 5</td>" in page and "0.50 of 4" in page and "512 of 8192 MB" in page
    assert "local" in page and "Docker 20.10" in page
