from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from .roles import make_developer


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def new_users_are_developers(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        make_developer(instance)


@receiver(user_logged_in)
def one_time_password_signs_in_once(sender, request, user, **kwargs):
    """A roster account's first sign-in uses up its one-time password (middleware.py)."""
    from .classrooms.roster import one_time_password_used
    from .middleware import SESSION_KEY

    if request is not None and hasattr(request, "session") and one_time_password_used(user):
        request.session[SESSION_KEY] = user.password
