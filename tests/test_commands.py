"""The management commands people type."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from environments.models import ApiToken

pytestmark = pytest.mark.django_db


def test_api_token_prints_a_new_working_token_each_time(alice, capsys):
    call_command("api_token", "alice")
    first = capsys.readouterr().out.strip()
    call_command("api_token", "alice")
    second = capsys.readouterr().out.strip()
    assert first != second
    assert [token.name for token in ApiToken.objects.filter(user=alice)] == ["cli", "cli"]
    for key in (first, second):
        response = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/environments/")
        assert response.status_code == 200, response.content


def test_api_token_for_an_inactive_user_says_so(alice):
    alice.is_active = False
    alice.save()
    with pytest.raises(CommandError, match="The user alice is inactive"):
        call_command("api_token", "alice")


def test_api_token_for_an_unknown_user_says_so():
    with pytest.raises(CommandError, match="There is no user named nobody."):
        call_command("api_token", "nobody")


def test_first_admin_creates_one_admin_once(django_user_model, capsys):
    call_command("first_admin", "--url", "http://127.0.0.1:9000/")
    out = capsys.readouterr().out
    assert "URL:      http://127.0.0.1:9000/" in out and "user:     admin" in out
    password = out.split("password: ")[1].split()[0]
    assert django_user_model.objects.get(username="admin").check_password(password)
    call_command("first_admin")
    assert "with your admin account" in capsys.readouterr().out
    assert django_user_model.objects.filter(is_superuser=True).count() == 1
