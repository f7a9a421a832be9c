"""The management commands people type."""

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_api_token_prints_the_same_token_each_time(alice, capsys):
    call_command("api_token", "alice")
    first = capsys.readouterr().out.strip()
    call_command("api_token", "alice")
    assert capsys.readouterr().out.strip() == first == Token.objects.get(user=alice).key


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
