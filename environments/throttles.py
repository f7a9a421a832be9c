"""Rate limits on creating environments, per user, shared by the page and the API (one
counter, in the cache). Logins are limited by django-axes (settings)."""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .errors import DindwebError


class TooFast(DindwebError):
    status_code = 429


class EnvironmentCreateThrottle(UserRateThrottle):
    scope = "environment-create"

    def get_rate(self):
        return settings.DINDWEB_CREATE_RATE


def check_create_rate(request) -> None:
    throttle = EnvironmentCreateThrottle()
    if not throttle.allow_request(request, None):
        wait = max(1, int(throttle.wait() or 1))
        raise TooFast(f"You are creating environments too fast: try again in {wait} seconds.")


class SignUpThrottle(AnonRateThrottle):
    """New accounts from one address (joining a class is the only way to sign up)."""

    scope = "sign-up"

    def get_rate(self):
        return settings.DINDWEB_SIGNUP_RATE


def check_signup_rate(request) -> None:
    throttle = SignUpThrottle()
    if not throttle.allow_request(request, None):
        wait = max(1, int(throttle.wait() or 1))
        raise TooFast(f"Too many new accounts from your address: try again in {wait} seconds.")
