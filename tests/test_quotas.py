"""Quotas: which applies, each limit refused with its sentence, and refusals that hold
under a race. Rows only: no worker runs here, so nothing reaches the engine but pings."""

import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from environments import quotas, services
from environments.models import Environment, Quota
from environments.quota_services import quota_set

from .conftest import api_client_for

pytestmark = pytest.mark.django_db(transaction=True)


def create(owner, name, **kwargs):
    return services.environment_create(owner=owner, name=name, preload=[], **kwargs)


def refused(call, sentence):
    with pytest.raises(quotas.QuotaExceeded) as caught:
        call()
    assert str(caught.value) == sentence


def test_user_quota_beats_groups_which_beat_the_site_default(alice):
    quotas.site_default()
    assert quotas.limits_for(alice).source == "the site default"
    students, staff = Group.objects.create(name="students"), Group.objects.create(name="staff")
    alice.groups.add(students, staff)
    quota_set(group=students, max_environments=2, max_cpus=1, max_idle_minutes=30, disk_mb=0)
    quota_set(group=staff, max_environments=9, max_cpus=0.5, max_idle_minutes=0, disk_mb=100)
    limits = quotas.limits_for(alice)
    # Most generous field by field; 0 (no bound) is the most generous idle time and disk.
    assert (limits.max_environments, limits.max_cpus, limits.max_idle_minutes, limits.disk_mb) == (9, 1, 0, 0)
    assert limits.source == "your groups staff, students"
    quota_set(user=alice, max_environments=1)
    assert quotas.limits_for(alice).max_environments == 1
    assert quotas.limits_for(alice).source == "your own quota"


def test_each_limit_is_refused_with_its_numbers(alice):
    quota_set(user=alice, max_environments=3, max_cpus=1.5, max_memory_mb=2048, max_lifetime_minutes=120,
              pids_per_environment=300)
    first = create(alice, "one", cpus=1, memory_mb=1024)
    assert first.pids_limit == 300  # the quota's processes per environment
    refused(lambda: create(alice, "two", cpus=1, memory_mb=512),
            "Quota exceeded: 1 of 1.5 CPUs in use, and this needs 1 more.")
    refused(lambda: create(alice, "two", cpus=0.5, memory_mb=1536),
            "Quota exceeded: 1024 of 2048 MB of memory in use, and this needs 1536 MB more.")
    refused(lambda: create(alice, "two", cpus=0.5, memory_mb=512, lifetime_minutes=121),
            "Quota exceeded: a lifetime of 121 minutes is over the maximum of 120 minutes.")
    create(alice, "two", cpus=0.5, memory_mb=512)
    Environment.objects.filter(name__in=["one", "two"]).update(status="stopped")  # stopped: no CPU held
    create(alice, "three", cpus=1, memory_mb=1024)
    refused(lambda: create(alice, "four", cpus=0.1, memory_mb=256),
            "Quota exceeded: 3 of 3 environments in use.")
    # Starting a stopped one counts its CPUs and memory again.
    refused(lambda: services.environment_start(environment=Environment.objects.get(name="one")),
            "Quota exceeded: 1 of 1.5 CPUs in use, and this needs 1 more.")
    assert Environment.objects.get(name="one").status == "stopped"
    # Extending past the lifetime maximum is refused; within it, it is done.
    three = Environment.objects.get(name="three")
    refused(lambda: services.environment_extend(environment=three, minutes=500),
            "Quota exceeded: a lifetime of 500 minutes is over the maximum of 120 minutes.")
    services.environment_extend(environment=three, minutes=90)
    assert abs((three.expires_at - timezone.now()) - timedelta(minutes=90)) < timedelta(seconds=5)


def test_the_api_says_which_limit(alice, alice_api):
    quota_set(user=alice, max_environments=1)
    assert alice_api.post("/api/v1/environments/", {"name": "a", "preload": []}, format="json").status_code == 201
    response = alice_api.post("/api/v1/environments/", {"name": "b", "preload": []}, format="json")
    assert response.status_code == 409
    assert response.json() == {"error": "Quota exceeded: 1 of 1 environments in use."}


def test_twenty_parallel_creates_against_a_limit_of_three_leave_three(alice):
    quota_set(user=alice, max_environments=3, max_cpus=100, max_memory_mb=10**6)
    answers, start = [], threading.Barrier(20)

    def post(number):
        client = api_client_for(alice)
        start.wait()
        response = client.post("/api/v1/environments/", {"name": f"race-{number}", "preload": [],
                                                          "cpus": 0.1, "memory_mb": 256}, format="json")
        answers.append((response.status_code, response.json()))
        connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Environment.objects.filter(owner=alice).count() == 3
    assert sorted(code for code, _ in answers) == [201] * 3 + [409] * 17
    assert {body["error"] for code, body in answers if code == 409} == {"Quota exceeded: 3 of 3 environments in use."}


def test_the_race_holds_on_postgresql_too(postgres_url):
    """The twenty parallel creates again, on PostgreSQL (where the owner's row lock, not
    SQLite's single writer, keeps them apart): a pytest of its own, since the database is
    chosen when Django starts. Its own engine label keeps its clean-up off ours."""
    env = {**os.environ, "DATABASE_URL": postgres_url,
           "DINDWEB_TEST_INSTANCE": f"{settings.DINDWEB_INSTANCE}-pg"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          f"{__file__}::test_twenty_parallel_creates_against_a_limit_of_three_leave_three"],
                         env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout


def test_a_quota_for_a_user_and_a_group_at_once_is_refused(alice):
    group = Group.objects.create(name="both")
    with pytest.raises(Exception, match="not both"):
        quota_set(user=alice, group=group, max_environments=1)
    assert not Quota.objects.filter(user=alice).exists()
