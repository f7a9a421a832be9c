from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from environments.engine import EngineError
from environments.hosts import default_engine
from environments.images import ImageBuildError, ensure_images


class Command(BaseCommand):
    help = "Build dindweb's images (the DinD image and dindweb/busybox) when they are missing."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Rebuild even if present.")

    def handle(self, *args, force=False, **options):
        wanted = {"busybox": "dindweb/busybox:latest"}
        # Only our own image can be built here; docker:dind (or any other) must be pulled.
        if settings.DINDWEB_DIND_IMAGE.startswith("dindweb/dind"):
            wanted["dind"] = settings.DINDWEB_DIND_IMAGE
        try:
            ensure_images(default_engine(), wanted, say=self.stdout.write, force=force)
        except (EngineError, ImageBuildError) as exc:
            raise CommandError(str(exc)) from exc
