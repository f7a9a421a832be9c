import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from environments.hosts import default_host


class Command(BaseCommand):
    help = "On the first run: create the admin account and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url, **options):
        default_host()  # make sure the local Docker host exists
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(f"dindweb: log in at {url} with your admin account.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "", password)
        self.stdout.write(
            f"dindweb: first run, admin account created.\n"
            f"  URL:      {url}\n  user:     admin\n  password: {password}\n"
            f"(Shown once; change it at {url}admin/password_change/.)"
        )
