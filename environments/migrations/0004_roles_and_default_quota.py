from django.db import migrations

ROLE_PERMISSIONS = {
    # Admins act on everything; trainers on their classrooms (built later); developers on
    # their own environments, which needs no model permission (ownership decides).
    "admin": ["add_environment", "change_environment", "delete_environment", "view_environment",
              "add_quota", "change_quota", "delete_quota", "view_quota", "view_dockerhost",
              "change_dockerhost", "add_dockerhost", "view_allowedimage", "add_allowedimage",
              "change_allowedimage", "delete_allowedimage"],
    "trainer": ["view_environment"],
    "developer": [],
}


def create_roles_and_default_quota(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Quota = apps.get_model("environments", "Quota")
    for model in ("environment", "quota", "dockerhost", "allowedimage"):
        ContentType.objects.get_or_create(app_label="environments", model=model)
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for codename in codenames:
            model = codename.split("_", 1)[1]
            content_type = ContentType.objects.get(app_label="environments", model=model)
            permission, _ = Permission.objects.get_or_create(
                codename=codename, content_type=content_type,
                defaults={"name": f"Can {codename.replace('_', ' ')}"})
            group.permissions.add(permission)
    if not Quota.objects.filter(user__isnull=True, group__isnull=True).exists():
        Quota.objects.create()


class Migration(migrations.Migration):
    dependencies = [("environments", "0003_quotas_activity"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(create_roles_and_default_quota, migrations.RunPython.noop)]
