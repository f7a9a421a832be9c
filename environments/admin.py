from django.contrib import admin

from .models import (AllowedImage, ApiToken, AuditEvent, Classroom, DockerHost, Environment, LabTemplate,
                     PeriodicJob, Quota, Seat)


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


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = ["__str__", "max_environments", "max_cpus", "max_memory_mb", "max_lifetime_minutes",
                    "max_idle_minutes", "disk_mb"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = [field.name for field in ApiToken._meta.fields]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is evidence, not something to edit."""

    list_display = ["timestamp", "username", "action", "target", "outcome", "ip"]
    list_filter = ["action", "outcome"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PeriodicJob)
class PeriodicJobAdmin(admin.ModelAdmin):
    list_display = ["name", "next_run_at", "last_run_at"]


@admin.register(LabTemplate)
class LabTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "cpus", "memory_mb", "updated_at"]
    search_fields = ["name", "owner__username"]


class SeatInline(admin.TabularInline):
    model = Seat
    fields = ["number", "student", "environment", "last_check_exit_code"]
    readonly_fields = ["environment", "last_check_exit_code"]
    extra = 0


@admin.register(Classroom)
class ClassroomAdmin(admin.ModelAdmin):
    list_display = ["title", "trainer", "starts_at", "ends_at", "join_code", "ended_at"]
    search_fields = ["title", "trainer__username", "join_code"]
    inlines = [SeatInline]
