"""API tokens: made and revoked on the dashboard, stored hashed, accepted by the API and
the websockets as `Authorization: Token KEY`, refused once revoked."""

import hashlib
import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from environments import tokens
from environments.models import ApiToken

from .conftest import PASSWORD
from .websockets import open_socket, read_terminal, refusal, type_line

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NOT_VALID = {"error": "That API token is not valid."}


def logged_in(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def api_get(key, path="/api/v1/environments/"):
    return Client(HTTP_AUTHORIZATION=f"Token {key}").get(path)


def test_a_new_token_shows_its_key_once_and_only_the_hash_is_stored(alice):
    pages = logged_in(alice)
    response = pages.post(reverse("token_create"), {"name": " laptop "})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key in response.content.decode()
    assert "no-store" in response["Cache-Control"]  # no cache keeps the page with the key

    token = ApiToken.objects.get(user=alice)
    assert token.name == "laptop"
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8]
    stored = [str(getattr(token, field.attname)) for field in ApiToken._meta.concrete_fields]
    assert not any(key in value for value in stored)

    listing = pages.get(reverse("token_list")).content.decode()
    assert key not in listing
    assert "laptop" in listing and f"{token.prefix}…" in listing and "never" in listing


def test_the_form_part_alone_answers_htmx(alice):
    response = logged_in(alice).post(reverse("token_create"), {"name": "ci"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="tokens"' in body
    key = re.search(r'id="new-key" readonly value="([^"]+)"', body).group(1)
    assert ApiToken.objects.get(user=alice).key_hash == hashlib.sha256(key.encode()).hexdigest()


@pytest.mark.parametrize(("name", "sentence"), [
    ("", "Give the token a name, such as the machine or script that will use it."),
    ("x" * 61, "The name is too long: use at most 60 characters."),
])
def test_a_token_needs_a_sensible_name(alice, name, sentence):
    response = logged_in(alice).post(reverse("token_create"), {"name": name})
    assert response.status_code == 400
    assert sentence in response.content.decode()
    assert not ApiToken.objects.exists()


def test_each_user_sees_only_their_own_tokens(alice, bob):
    tokens.token_create(user=alice, name="alices-laptop")
    tokens.token_create(user=bob, name="bobs-ci")
    listing = logged_in(alice).get(reverse("token_list")).content.decode()
    assert "alices-laptop" in listing and "bobs-ci" not in listing


def test_the_api_accepts_a_token_and_notes_its_last_use_once_a_minute(alice):
    token, key = tokens.token_create(user=alice, name="script")
    assert token.last_used_at is None

    assert api_get(key).status_code == 200
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None and timezone.now() - first_use < timedelta(seconds=10)

    assert api_get(key).status_code == 200  # within the minute: not written again
    token.refresh_from_db()
    assert token.last_used_at == first_use

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    assert api_get(key).status_code == 200
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timedelta(seconds=10)


def test_a_revoked_token_is_refused(alice):
    token, key = tokens.token_create(user=alice, name="old-laptop")
    assert api_get(key).status_code == 200
    pages = logged_in(alice)

    response = pages.post(reverse("token_revoke", args=[token.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("token_list")
    token.refresh_from_db()
    assert token.revoked_at is not None

    response = api_get(key)
    assert response.status_code == 401 and response.json() == NOT_VALID
    listing = pages.get(reverse("token_list")).content.decode()
    assert "Revoked the token old-laptop" in listing and "revoked" in listing

    again = pages.post(reverse("token_revoke", args=[token.pk]))
    assert again.status_code == 409 and "That token is already revoked." in again.content.decode()


def test_revoking_answers_htmx_with_a_redirect(alice):
    token, _ = tokens.token_create(user=alice, name="ci")
    response = logged_in(alice).post(reverse("token_revoke", args=[token.pk]), **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("token_list")


def test_another_users_token_cannot_be_revoked(alice, bob):
    token, key = tokens.token_create(user=alice, name="mine")
    response = logged_in(bob).post(reverse("token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None and api_get(key).status_code == 200


@pytest.mark.parametrize("header", ["Token not-a-real-token", "Token", "Token two words", "token " + "x" * 500])
def test_a_malformed_or_unknown_token_is_refused(db, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/environments/")
    assert response.status_code == 401 and response.json() == NOT_VALID
    assert response["WWW-Authenticate"] == "Token"


def test_an_inactive_users_token_is_refused(alice):
    _, key = tokens.token_create(user=alice, name="script")
    alice.is_active = False
    alice.save()
    assert api_get(key).json() == NOT_VALID


def test_the_schema_describes_the_token(alice):
    _, key = tokens.token_create(user=alice, name="docs")
    response = api_get(key, "/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"


@pytest.mark.django_db(transaction=True)
async def test_a_websocket_takes_a_token_until_it_is_revoked(alice, make_environment):
    environment = await sync_to_async(make_environment)(alice, name="token-shell")
    token, key = await sync_to_async(tokens.token_create)(user=alice, name="terminal")
    path = f"/ws/environments/{environment.pk}/shell/"

    # A client that is not a browser: no Origin, the token decides.
    shell, connected = await open_socket(path, token=key, origin=None)
    assert connected
    await type_line(shell, "echo token-$((20+22))")
    assert "token-42" in await read_terminal(shell, "token-42")
    await shell.disconnect()
    await sync_to_async(token.refresh_from_db)()
    assert token.last_used_at is not None

    await sync_to_async(tokens.token_revoke)(token=token, by=alice)
    refused, _ = await open_socket(path, token=key, origin=None)
    assert await refusal(refused) == 4403
