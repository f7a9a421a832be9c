"""An environment's whole life through the JSON API, on the real engine."""

import pytest

from .conftest import engine_objects, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def exec_in(api, pk, *cmd, timeout=60):
    response = api.post(f"/api/v1/environments/{pk}/exec/", {"cmd": list(cmd), "timeout": timeout},
                        format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_it_creates_runs_stops_starts_and_deletes(alice_api, workers):
    response = alice_api.post("/api/v1/environments/", {"name": "lifecycle"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "creating"  # the request did not wait for the engine
    pk = body["id"]

    environment = wait_for(pk, "running")
    detail = alice_api.get(f"/api/v1/environments/{pk}/").json()
    assert detail["status"] == "running" and detail["status_detail"] == "Running."
    assert [step["state"] for step in detail["steps"]] == ["done"] * 5
    assert detail["daemon_version"]

    # The nested daemon runs a nested container from the preloaded image, no registry.
    result = exec_in(alice_api, pk, "docker", "run", "--rm", "dindweb/busybox", "echo", "hi")
    assert result == {"exit_code": 0, "output": "hi\n", "truncated": False}

    # Something made inside before the stop must still be there after the start.
    exec_in(alice_api, pk, "docker", "tag", "dindweb/busybox:latest", "kept/image:1")
    exec_in(alice_api, pk, "docker", "create", "--name", "kept-container", "kept/image:1", "true")

    assert alice_api.post(f"/api/v1/environments/{pk}/stop/").status_code == 202
    wait_for(pk, "stopped")
    assert engine_objects(environment) == {"container": "exited", "network": True, "volume": True}

    assert alice_api.post(f"/api/v1/environments/{pk}/start/").status_code == 202
    wait_for(pk, "running")
    assert "kept/image" in exec_in(alice_api, pk, "docker", "images", "kept/image")["output"]
    containers = alice_api.get(f"/api/v1/environments/{pk}/containers/").json()
    assert [c["name"] for c in containers] == ["kept-container"]

    assert alice_api.post(f"/api/v1/environments/{pk}/restart/").status_code == 202
    wait_for(pk, "running")
    assert exec_in(alice_api, pk, "docker", "run", "--rm", "kept/image:1", "echo", "again")["output"] == "again\n"

    assert alice_api.delete(f"/api/v1/environments/{pk}/").status_code == 202
    wait_for(pk, {None})
    assert engine_objects(environment) == {"container": None, "network": False, "volume": False}
    assert alice_api.get(f"/api/v1/environments/{pk}/").status_code == 404


def test_it_lists_only_the_callers_environments(alice, alice_api, bob, make_environment):
    mine = make_environment(alice, name="mine")
    make_environment(bob, name="theirs")
    names = [e["name"] for e in alice_api.get("/api/v1/environments/").json()]
    assert names == [mine.name]


def test_it_refuses_actions_that_do_not_fit_the_status(alice, alice_api, make_environment):
    environment = make_environment(alice)
    response = alice_api.post(f"/api/v1/environments/{environment.pk}/start/")
    assert response.status_code == 409
    assert response.json() == {"error": "The environment is running: that cannot be done now."}


def test_exec_reports_exit_codes_and_stops_at_the_timeout(alice, alice_api, make_environment):
    environment = make_environment(alice)
    failed = exec_in(alice_api, environment.pk, "sh", "-c", "echo oops >&2; exit 3")
    assert failed["exit_code"] == 3 and failed["output"] == "oops\n"
    slow = exec_in(alice_api, environment.pk, "sleep", "30", timeout=1)
    assert slow["exit_code"] == 137  # killed by the timeout inside the environment
    left = exec_in(alice_api, environment.pk, "sh", "-c", "pgrep -x sleep || true")
    assert left["output"] == ""


def test_exec_on_a_stopped_environment_is_refused(alice, alice_api, make_environment):
    environment = make_environment(alice)
    alice_api.post(f"/api/v1/environments/{environment.pk}/stop/")
    wait_for(environment, "stopped")
    response = alice_api.post(f"/api/v1/environments/{environment.pk}/exec/", {"cmd": ["true"]}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == "The environment is stopped: start it before running commands."
