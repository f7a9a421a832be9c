"""`Authorization: Token KEY` for the API, with our own hashed tokens (environments/tokens.py)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from ..tokens import token_authenticate

KEYWORD = "Token"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """No Token header: someone else decides (the session). A Token header with a key
    that is unknown, revoked or malformed: 401, rather than trying the session, so a
    client learns at once that its key does not work."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("That API token is not valid.")
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("That API token is not valid.") from None
        token = token_authenticate(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed("That API token is not valid.")
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return KEYWORD


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token in the OpenAPI document (/api/schema/)."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Send `Authorization: Token KEY`; make keys on the dashboard's"
                               " API tokens page."}
