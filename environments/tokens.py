"""API tokens: made, looked up and revoked here, for the API, the websockets and
`manage.py api_token` alike.

A key is shown once, when it is made: only its sha256 is stored, so neither the database
nor the pages can show it again. Lookups hash the key sent and find the row by the hash.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from . import audit
from .errors import Conflict, InvalidRequest
from .models import ApiToken

KEY_BYTES = 30  # 240 random bits: a 40-character url-safe key
# Recording every use would turn each API call into a database write; to the minute is
# all a person deciding whether a token is still in use needs.
LAST_USED_EVERY = timedelta(minutes=1)
# Keys we make are 40 characters; anything far longer is not ours and is not hashed.
LONGEST_KEY = 200


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def tokens_of(user):
    """The user's tokens, revoked ones included, newest first."""
    return ApiToken.objects.filter(user=user)


def _clean_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("Give the token a name, such as the machine or script that will use it.")
    name = name.strip()
    limit = ApiToken._meta.get_field("name").max_length
    if len(name) > limit:
        raise InvalidRequest(f"The name is too long: use at most {limit} characters.")
    return name


def token_create(*, user, name, ip=None) -> tuple[ApiToken, str]:
    """A new token for `user`, and its key: the only time the key is known."""
    name = _clean_name(name)
    key = secrets.token_urlsafe(KEY_BYTES)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:ApiToken.PREFIX_LENGTH],
                                    key_hash=_hash(key))
    audit.record(action="token.create", actor=user, target=f"token {name}",
                 detail=f"The key starts with {token.prefix}.", ip=ip)
    return token, key


def token_revoke(*, token, by, ip=None) -> ApiToken:
    """Refuse the token from now on. `by` is who revoked it (for the audit log)."""
    now = timezone.now()
    # Conditional, so that two revokes at once record one revocation.
    if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        raise Conflict("That token is already revoked.")
    token.revoked_at = now
    audit.record(action="token.revoke", actor=by, target=f"token {token.name}",
                 detail=f"The key started with {token.prefix}.", ip=ip)
    return token


def token_authenticate(*, key) -> ApiToken | None:
    """The token whose key this is, with its user, or None when it is unknown, revoked or
    its user is inactive. Notes the use (at most once a minute per token)."""
    if not isinstance(key, str) or not key or len(key) > LONGEST_KEY:
        return None
    token = (ApiToken.objects.select_related("user")
             .filter(key_hash=_hash(key), revoked_at__isnull=True, user__is_active=True).first())
    if token is None:
        return None
    now = timezone.now()
    stale = now - LAST_USED_EVERY
    if token.last_used_at is None or token.last_used_at <= stale:
        # Conditional too: of many requests arriving together, one writes.
        (ApiToken.objects.filter(pk=token.pk)
         .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale))
         .update(last_used_at=now))
        token.last_used_at = now
    return token
