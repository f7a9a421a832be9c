from django.conf import settings
from django.db import migrations


def create_local_host(apps, schema_editor):
    DockerHost = apps.get_model("environments", "DockerHost")
    DockerHost.objects.get_or_create(
        name="local", defaults={"engine_url": settings.DINDWEB_DEFAULT_ENGINE_URL}
    )


class Migration(migrations.Migration):
    dependencies = [("environments", "0001_initial")]
    operations = [migrations.RunPython(create_local_host, migrations.RunPython.noop)]
