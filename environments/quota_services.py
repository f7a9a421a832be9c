"""Admins set quotas for the site, for groups and for users."""

from django.core.exceptions import ValidationError
from django.db import transaction

from .errors import InvalidRequest
from .models import Quota
from .quotas import LIMIT_FIELDS


def quota_set(*, user=None, group=None, **limits) -> Quota:
    """Create or change the quota of a user, of a group, or (neither) the site default."""
    if user is not None and group is not None:
        raise InvalidRequest("A quota belongs to a user or to a group, not both.")
    unknown = set(limits) - set(LIMIT_FIELDS)
    if unknown:
        raise InvalidRequest(f"Unknown limit: {sorted(unknown)[0]}.")
    with transaction.atomic():
        quota = Quota.objects.select_for_update().filter(user=user, group=group).first() or Quota(user=user, group=group)
        for name, value in limits.items():
            setattr(quota, name, value)
        try:
            quota.full_clean(validate_unique=False)
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise InvalidRequest(f"{Quota._meta.get_field(field).verbose_name.capitalize()}: {messages[0]}") from None
        quota.save()
    return quota


def quota_remove(*, quota: Quota) -> None:
    """Remove a user's or group's quota (they fall back to the next one); the site default stays."""
    if quota.user_id is None and quota.group_id is None:
        raise InvalidRequest("The site default quota cannot be removed, only changed.")
    quota.delete()
