"""When the engine does not answer: pages render with a banner, the API answers 503,
nothing is lost, and all works again when the engine is back.

The engine is made unreachable for real by pointing the host at a socket where no
engine listens (a running dashboard meets the same when dockerd is down).
"""

import time

import pytest
from django.core.cache import cache
from django.test import Client

from environments.models import Environment

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
NOWHERE = "unix:///tmp/dindweb-test-no-engine.sock"


def test_pages_and_api_survive_an_unreachable_engine(alice, alice_api, make_environment, local_host):
    environment = make_environment(alice, name="survivor")
    pages = Client()
    pages.login(username=alice.username, password=PASSWORD)
    real_url = local_host.engine_url

    local_host.engine_url = NOWHERE
    local_host.save()
    cache.clear()  # the banner's engine check is cached for a few seconds
    try:
        started = time.monotonic()
        for url in ("/", f"/environments/{environment.pk}/"):
            response = pages.get(url)
            assert response.status_code == 200
            assert "The Docker engine is not answering" in response.content.decode()
        assert pages.get(f"/environments/{environment.pk}/status/").status_code == 200
        inside = pages.get(f"/environments/{environment.pk}/inside/").content.decode()
        assert f"The Docker engine at {NOWHERE} is not answering." in inside

        refused = alice_api.post("/api/v1/environments/", {"name": "while-down"}, format="json")
        assert refused.status_code == 503
        assert refused.json() == {"error": f"The Docker engine at {NOWHERE} is not answering."}
        assert not Environment.objects.filter(name="while-down").exists()
        ran = alice_api.post(f"/api/v1/environments/{environment.pk}/exec/", {"cmd": ["true"]}, format="json")
        assert ran.status_code == 503
        assert alice_api.get(f"/api/v1/environments/{environment.pk}/containers/").status_code == 503
        assert alice_api.get("/api/v1/environments/").json()[0]["status"] == "running"
        assert time.monotonic() - started < 20  # nothing hung
    finally:
        local_host.engine_url = real_url
        local_host.save()
        cache.clear()

    assert "The Docker engine is not answering" not in pages.get("/").content.decode()
    ran = alice_api.post(f"/api/v1/environments/{environment.pk}/exec/",
                         {"cmd": ["docker", "run", "--rm", "dindweb/busybox", "echo", "back"]}, format="json")
    assert ran.json()["output"] == "back\n"
