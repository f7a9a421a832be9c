from django.contrib import admin

from .models import AllowedImage, DockerHost, Environment


@admin.register(DockerHost)
class DockerHostAdmin(admin.ModelAdmin):
    list_display = ["name", "engine_url", "profile", "enabled"]


@admin.register(AllowedImage)
class AllowedImageAdmin(admin.ModelAdmin):
    list_display = ["reference", "description"]


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "host", "status", "cpus", "memory_mb", "created_at", "expires_at"]
    list_filter = ["status", "host"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["key", "container_id", "network_id", "volume_name", "steps", "daemon_version"]
