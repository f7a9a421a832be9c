"""CSRF, login lockout, creation rate limits and the production settings check."""

import os
import secrets
import subprocess
import sys

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from environments.models import Environment

from .conftest import PASSWORD, api_client_for

pytestmark = pytest.mark.django_db(transaction=True)
FORM = {"name": "csrf-check", "size": "small", "lifetime_minutes": "60"}


def test_forms_and_htmx_posts_need_the_csrf_token(alice):
    pages = Client(enforce_csrf_checks=True)
    pages.login(username="alice", password=PASSWORD)
    assert pages.post("/environments/new/", FORM).status_code == 403
    assert pages.post("/environments/new/", FORM, HTTP_HX_REQUEST="true").status_code == 403
    # The session-authenticated API needs it too; a token-authenticated client does not.
    assert pages.post("/api/v1/environments/", {"name": "x"}, content_type="application/json").status_code == 403
    token = pages.get("/").cookies["csrftoken"].value
    response = pages.post("/environments/new/", {**FORM, "name": "Bad Name"}, HTTP_X_CSRFTOKEN=token,
                          HTTP_HX_REQUEST="true")
    assert response.status_code == 400  # past CSRF: the name itself is refused
    assert Environment.objects.count() == 0


def test_logins_are_locked_out_after_five_failures():
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("carol", password=PASSWORD)
    with override_settings(AXES_ENABLED=True):
        client = Client()
        for _ in range(4):
            assert client.post("/accounts/login/", {"username": "carol", "password": "wrong"}).status_code == 200
        assert client.post("/accounts/login/", {"username": "carol", "password": "wrong"}).status_code == 429
        locked = client.post("/accounts/login/", {"username": "carol", "password": PASSWORD})
        assert locked.status_code == 429
        assert "Too many failed logins" in locked.content.decode()
        # Another user from the same address is not locked out.
        get_user_model().objects.create_user("dave", password=PASSWORD)
        assert Client().post("/accounts/login/", {"username": "dave", "password": PASSWORD}).status_code == 302


def test_creating_environments_is_rate_limited_per_user(alice, bob):
    cache.clear()
    with override_settings(DINDWEB_CREATE_RATE="2/min"):
        api = api_client_for(alice)
        for name in ("one", "two"):
            assert api.post("/api/v1/environments/", {"name": name, "preload": []}, format="json").status_code == 201
        response = api.post("/api/v1/environments/", {"name": "three", "preload": []}, format="json")
        assert response.status_code == 429
        assert response.json()["error"].startswith("You are creating environments too fast: try again in")
        pages = Client()
        pages.login(username="alice", password=PASSWORD)
        assert pages.post("/environments/new/", {**FORM, "name": "four"}).status_code == 429  # one count
        # Bob has a count of his own.
        assert api_client_for(bob).post("/api/v1/environments/", {"name": "one", "preload": []},
                                        format="json").status_code == 201
    assert sorted(Environment.objects.values_list("owner__username", "name")) == [
        ("alice", "one"), ("alice", "two"), ("bob", "one")]
    cache.clear()


def test_weak_passwords_are_refused():
    for weak in ("password", "12345678", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak)


def test_the_documented_production_settings_pass_the_deploy_check():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dindweb.settings", "DEBUG": "0",
           "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "dindweb.example.com",
           "DINDWEB_HTTPS": "1"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
