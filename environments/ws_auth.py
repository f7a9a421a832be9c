"""Who is asking, for websockets: the session cookie from our own pages, or an API token.

A browser always sends Origin, and a page of another site must not ride on the user's
cookie, so with an Origin header it must be one of ours. Clients that are not browsers
send no Origin; they must then authenticate with `Authorization: Token KEY`.
"""

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

from .tokens import token_authenticate


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _token_key(scope) -> str | None:
    value = _header(scope, b"authorization") or ""
    keyword, _, key = value.partition(" ")
    return key.strip() if keyword == "Token" and key.strip() else None


@database_sync_to_async
def _user_for_token(key: str):
    # The API's lookup: unknown, revoked and inactive users' tokens are refused alike.
    token = token_authenticate(key=key)
    return token.user if token is not None else AnonymousUser()


class TokenAuthMiddleware(BaseMiddleware):
    """A token, when sent, decides the user (over any session cookie)."""

    async def __call__(self, scope, receive, send):
        key = _token_key(scope)
        if key is not None:
            scope = dict(scope, user=await _user_for_token(key), auth_method="token")
        return await super().__call__(scope, receive, send)


class OriginOrTokenValidator:
    """Same-origin browsers, or token-bearing clients without an Origin header."""

    def __init__(self, application):
        self.application = application
        self.checked = AllowedHostsOriginValidator(application)

    async def __call__(self, scope, receive, send):
        if _header(scope, b"origin") is None and _token_key(scope) is not None:
            return await self.application(scope, receive, send)
        return await self.checked(scope, receive, send)


def websocket_auth(inner):
    return OriginOrTokenValidator(AuthMiddlewareStack(TokenAuthMiddleware(inner)))
