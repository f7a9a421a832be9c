from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .roles import make_developer


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def new_users_are_developers(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        make_developer(instance)
