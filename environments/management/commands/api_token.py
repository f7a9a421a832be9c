from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from environments.tokens import token_create


class Command(BaseCommand):
    help = ("Make a new API token named 'cli' for USER and print its key. Keys are stored"
            " hashed, so each run makes a new token; revoke old ones on the API tokens page.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no user named {username}.") from None
        if not user.is_active:
            raise CommandError(f"The user {username} is inactive: a token for them would be refused.")
        _, key = token_create(user=user, name="cli")
        self.stdout.write(key)
