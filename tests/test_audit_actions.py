"""What people do to environments lands in the audit log, with its outcome."""

import pytest
from asgiref.sync import sync_to_async

from environments import jobs
from environments.models import AuditEvent, Environment
from environments.quota_services import quota_set

from .conftest import wait_for
from .websockets import open_socket, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def events():
    return [(e.username, e.action, e.target, e.outcome) for e in AuditEvent.objects.order_by("timestamp", "pk")
            if e.action.startswith(("environment.", "shell.", "quota."))]


def test_api_actions_and_refusals_are_recorded(alice, alice_api, workers):
    quota_set(user=alice, max_environments=1)
    pk = alice_api.post("/api/v1/environments/", {"name": "logged"}, format="json").json()["id"]
    alice_api.post("/api/v1/environments/", {"name": "second"}, format="json")
    wait_for(pk, "running")
    alice_api.post(f"/api/v1/environments/{pk}/exec/", {"cmd": ["true"]}, format="json")
    alice_api.delete(f"/api/v1/environments/{pk}/")
    wait_for(pk, {None})
    assert events() == [
        ("alice", "environment.create", "alice/logged", "ok"),
        ("alice", "environment.create", "alice/second", "refused"),
        ("alice", "environment.exec", "alice/logged", "ok"),
        ("alice", "environment.delete", "alice/logged", "ok"),
    ]
    refusal = AuditEvent.objects.get(outcome="refused")
    assert refusal.detail == "Quota exceeded: 1 of 1 environments in use." and refusal.ip == "127.0.0.1"


async def test_opening_a_shell_is_recorded(alice, make_environment):
    environment = await sync_to_async(make_environment)(alice, name="watched-shell")
    token = await sync_to_async(token_for)(alice)
    shell, _ = await open_socket(f"/ws/environments/{environment.pk}/shell/", token=token)
    await shell.receive_nothing(timeout=1)
    await shell.disconnect()
    assert ("alice", "shell.open", "alice/watched-shell", "ok") in await sync_to_async(events)()


def test_a_stop_by_the_system_is_recorded_with_its_reason(alice, make_environment):
    from datetime import timedelta

    from django.utils import timezone

    environment = make_environment(alice, name="expiring")
    Environment.objects.filter(pk=environment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    jobs.cull()
    event = AuditEvent.objects.get(action="environment.stop")
    assert event.actor is None and event.target == "alice/expiring"
    assert event.detail.startswith("Stopped: its lifetime ended")
