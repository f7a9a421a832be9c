"""Bad input gets a 400 with one sentence, and leaves nothing behind: no row, no task,
no container, network or volume on the engine."""

import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult

from environments.models import AllowedImage, Environment

pytestmark = pytest.mark.django_db(transaction=True)

NAME_RULE = ("Names use lowercase letters, digits and hyphens, start and end with a letter or"
             " digit, and have at most 40 characters.")


def engine_snapshot(engine):
    found = engine.labelled(settings.DINDWEB_INSTANCE)
    return {kind: sorted(item["name"] for item in items) for kind, items in found.items()}


@pytest.mark.parametrize("body, sentence", [
    ({}, "Give the environment a name."),
    ({"name": ""}, "Give the environment a name."),
    ({"name": "   "}, "Give the environment a name."),
    ({"name": None}, "Give the environment a name."),
    ({"name": 42}, "Give the environment a name."),
    ({"name": "x" * 41}, "The name is too long: use at most 40 characters."),
    ({"name": "Upper"}, NAME_RULE),
    ({"name": "-starts-with-hyphen"}, NAME_RULE),
    ({"name": "has space"}, NAME_RULE),
    ({"name": "../etc"}, NAME_RULE),
    ({"name": "émoji-😀"}, NAME_RULE),
    ({"name": "ok", "cpus": 0}, "CPUs must be between 0.1 and 4."),
    ({"name": "ok", "cpus": 100}, "CPUs must be between 0.1 and 4."),
    ({"name": "ok", "cpus": "lots"}, "CPUs must be a number."),
    ({"name": "ok", "cpus": True}, "CPUs must be a number."),
    ({"name": "ok", "cpus": "NaN"}, "CPUs must be between 0.1 and 4."),
    ({"name": "ok", "memory_mb": 10}, "Memory (MB) must be between 256 and 8192."),
    ({"name": "ok", "memory_mb": 512.5}, "Memory (MB) must be a whole number."),
    ({"name": "ok", "memory_mb": 10**12}, "Memory (MB) must be between 256 and 8192."),
    ({"name": "ok", "lifetime_minutes": -5}, "Lifetime (minutes) must be between 1 and 10080."),
    ({"name": "ok", "preload": "dindweb/busybox:latest"}, "Preload must be a list of image names."),
    ({"name": "ok", "preload": ["dindweb/dind:latest"]},
     "The image dindweb/dind:latest is not on the list of images that can be preloaded."),
    ({"name": "ok", "preload": ["nope/unknown:1"]},
     "The image nope/unknown:1 is not on the list of images that can be preloaded."),
    ({"name": "ok", "privileged": True}, "Unknown field: privileged."),
    ({"name": "ok", "volumes": ["/:/host"]}, "Unknown field: volumes."),
    ({"name": "ok", "network_mode": "host"}, "Unknown field: network_mode."),
    ({"name": "ok", "image": "alpine"}, "Unknown field: image."),
])
def test_create_refuses_with_a_sentence(alice_api, engine, body, sentence):
    before = engine_snapshot(engine)
    response = alice_api.post("/api/v1/environments/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": sentence}
    assert Environment.objects.count() == 0 and DBTaskResult.objects.count() == 0
    assert engine_snapshot(engine) == before


@pytest.mark.parametrize("raw, content_type, sentence", [
    ("{not json", "application/json", "The request body is not valid JSON."),
    ('["a", "list"]', "application/json", "The request body must be a JSON object."),
    ("name=x", "text/plain", "Send the request body as JSON (Content-Type: application/json)."),
])
def test_malformed_bodies_are_refused(alice_api, raw, content_type, sentence):
    response = alice_api.generic("POST", "/api/v1/environments/", raw, content_type=content_type)
    assert response.status_code in (400, 415)
    assert response.json() == {"error": sentence}
    assert Environment.objects.count() == 0


def test_an_allowed_image_missing_from_the_host_is_refused(alice_api):
    AllowedImage.objects.create(reference="dindweb/not-built:1")
    response = alice_api.post("/api/v1/environments/", {"name": "ok", "preload": ["dindweb/not-built:1"]},
                              format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "The image dindweb/not-built:1 is not on the Docker host."}


def test_a_duplicate_name_is_refused(alice, alice_api, make_environment):
    make_environment(alice, name="twice")
    response = alice_api.post("/api/v1/environments/", {"name": "twice"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"error": "You already have an environment named twice."}
    assert Environment.objects.filter(name="twice").count() == 1


def test_the_same_name_is_fine_for_another_user(bob, alice, make_environment):
    make_environment(alice, name="shared-name")
    assert make_environment(bob, name="shared-name").status == "running"


EXEC_CASES = [
    ({}, "The command must be a non-empty list of strings."),
    ({"cmd": []}, "The command must be a non-empty list of strings."),
    ({"cmd": "ls -l"}, "The command must be a non-empty list of strings."),
    ({"cmd": ["ls", 3]}, "The command must be a non-empty list of strings."),
    ({"cmd": ["ls\x00"]}, "The command must be a non-empty list of strings."),
    ({"cmd": [""]}, "The command's first word names the program to run."),
    ({"cmd": ["true"], "timeout": 0}, "The timeout must be between 1 and 600."),
    ({"cmd": ["true"], "timeout": "soon"}, "The timeout must be a number."),
    ({"cmd": ["true"], "user": "root"}, "Unknown field: user."),
]


def test_exec_refuses_with_a_sentence(alice, alice_api, make_environment):
    environment = make_environment(alice, name="exec-input")
    for body, sentence in EXEC_CASES:
        response = alice_api.post(f"/api/v1/environments/{environment.pk}/exec/", body, format="json")
        assert (response.status_code, response.json()) == (400, {"error": sentence}), body


def test_unknown_ids_and_methods_answer_with_sentences(alice_api):
    assert alice_api.get("/api/v1/environments/999999/").json() == {"error": "No such environment."}
    response = alice_api.put("/api/v1/environments/", {}, format="json")
    assert response.status_code == 405
    assert response.json() == {"error": "The method PUT is not allowed here."}
