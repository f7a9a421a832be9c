"""The dashboard's pages, with Django's test client and htmx headers where htmx sends them."""

import json

import pytest
from django.test import Client

from environments.models import Environment

from .conftest import PASSWORD, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def pages(alice):
    client = Client()
    client.login(username=alice.username, password=PASSWORD)
    return client


def test_the_login_page_and_a_login(alice):
    client = Client()
    assert "Log in to dindweb" in client.get("/accounts/login/").content.decode()
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "My environments" in client.get("/").content.decode()
    wrong = Client().post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert "did not match" in wrong.content.decode()


def test_create_from_the_form_then_stop_start_and_delete(pages, workers):
    page = pages.get("/").content.decode()
    assert "No environments yet" in page and 'value="dindweb/busybox:latest" checked' in page

    response = pages.post("/environments/new/", {"name": "from-form", "size": "small", "lifetime_minutes": "60",
                                                 "preload": ["dindweb/busybox:latest"]}, **HTMX)
    environment = Environment.objects.get(name="from-form")
    assert response.status_code == 200 and response["HX-Redirect"] == f"/environments/{environment.pk}/"
    assert (float(environment.cpus), environment.memory_mb) == (0.5, 512)

    detail = pages.get(f"/environments/{environment.pk}/").content.decode()
    assert "Creating from-form" in detail and "every 1s" in detail  # polls while busy (when not pushed)
    assert f'data-status-socket="/ws/environments/{environment.pk}/status/"' in detail  # pushes
    wait_for(environment, "running")
    status = pages.get(f"/environments/{environment.pk}/status/?was=creating", **HTMX)
    assert json.loads(status["HX-Trigger"]) == {"status-changed": {}}  # the page reloads its "Inside" panel
    html = status.content.decode()
    assert 'data-status="running"' in html and "every 1s" not in html  # settled: polling stops
    assert html.count('class="step step-done"') == 5

    inside = pages.get(f"/environments/{environment.pk}/inside/", **HTMX).content.decode()
    assert "dindweb/busybox" in inside and "No nested containers yet" in inside

    assert pages.post(f"/environments/{environment.pk}/stop/", **HTMX)["HX-Redirect"] == f"/environments/{environment.pk}/"
    wait_for(environment, "stopped")
    assert "Stopped. Its nested images and containers are kept." in pages.get(f"/environments/{environment.pk}/").content.decode()
    pages.post(f"/environments/{environment.pk}/start/")
    wait_for(environment, "running")
    response = pages.post(f"/environments/{environment.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Deleting from-form." in pages.get("/").content.decode()
    wait_for(environment, {None})


def test_a_refused_form_says_why_and_keeps_what_was_typed(pages):
    response = pages.post("/environments/new/", {"name": "Bad Name", "size": "small", "lifetime_minutes": "60"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Names use lowercase letters" in html and 'value="Bad Name"' in html
    assert Environment.objects.count() == 0
    # Without htmx the same refusal comes as a whole page.
    plain = pages.post("/environments/new/", {"name": "", "size": "huge", "lifetime_minutes": "60"})
    assert plain.status_code == 400 and "Choose one of the sizes offered." in plain.content.decode()


def test_a_refused_action_says_why(pages, alice, make_environment):
    environment = make_environment(alice, name="already-running")
    response = pages.post(f"/environments/{environment.pk}/start/")
    assert response.status_code == 409
    assert "The environment is running: that cannot be done now." in response.content.decode()


def test_the_list_polls_only_while_something_is_busy(pages, alice, make_environment):
    make_environment(alice, name="settled")
    rows = pages.get("/?fragment=rows", **HTMX).content.decode()
    assert "settled" in rows and "every 1s" not in rows


def test_extending_from_the_page(pages, alice):
    from environments import services

    environment = services.environment_create(owner=alice, name="longer", preload=[])
    response = pages.post(f"/environments/{environment.pk}/extend/", {"minutes": "1440"}, follow=True)
    assert response.status_code == 200 and "longer now lives until" in response.content.decode()
    refused = pages.post(f"/environments/{environment.pk}/extend/", {"minutes": "20000"})
    assert refused.status_code == 400
    assert "Minutes must be between 1 and 10080." in refused.content.decode()
