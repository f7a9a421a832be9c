from rest_framework import serializers

from ..models import Environment


class EnvironmentSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    host = serializers.CharField(source="host.name")
    cpus = serializers.FloatField()

    class Meta:
        model = Environment
        fields = ["id", "name", "owner", "host", "status", "status_detail", "steps", "cpus",
                  "memory_mb", "pids_limit", "preload", "daemon_version", "created_at",
                  "started_at", "expires_at"]
        read_only_fields = fields


# The request bodies below only describe the API in its OpenAPI schema: the services
# check every value themselves, for the pages and the API alike.
class EnvironmentCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)
    cpus = serializers.FloatField(required=False)
    memory_mb = serializers.IntegerField(required=False)
    lifetime_minutes = serializers.IntegerField(required=False)
    preload = serializers.ListField(child=serializers.CharField(), required=False)


class ExecSerializer(serializers.Serializer):
    cmd = serializers.ListField(child=serializers.CharField())
    timeout = serializers.IntegerField(required=False, default=60)


class ExecResultSerializer(serializers.Serializer):
    exit_code = serializers.IntegerField()
    output = serializers.CharField()
    truncated = serializers.BooleanField()


class NestedContainerSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    image = serializers.CharField()
    command = serializers.CharField()
    state = serializers.CharField()
    status = serializers.CharField()
    ports = serializers.CharField()
    created = serializers.CharField()


class ExtendSerializer(serializers.Serializer):
    minutes = serializers.IntegerField()


class ResizeSerializer(serializers.Serializer):
    cpus = serializers.FloatField(required=False)
    memory_mb = serializers.IntegerField(required=False)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
