"""The JSON API under /api/v1/. Same selectors and services as the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from ..errors import InvalidRequest
from .serializers import (EnvironmentCreateSerializer, EnvironmentSerializer, ErrorSerializer,
                          ExecResultSerializer, ExecSerializer, NestedContainerSerializer)

ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 409, 503)}


def _body(request, allowed: set[str]) -> dict:
    """The JSON object sent, refusing anything not asked for (no input may carry
    options such as privileged mode or host mounts through to the engine)."""
    if not isinstance(request.data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    unknown = sorted(set(request.data) - allowed)
    if unknown:
        raise InvalidRequest(f"Unknown field: {unknown[0]}.")
    return request.data


class EnvironmentListView(APIView):
    @extend_schema(responses={200: EnvironmentSerializer(many=True), **ERRORS})
    def get(self, request):
        environments = selectors.environments_visible_to(request.user).filter(owner=request.user)
        return Response(EnvironmentSerializer(environments, many=True).data)

    @extend_schema(request=EnvironmentCreateSerializer, responses={201: EnvironmentSerializer, **ERRORS})
    def post(self, request):
        body = _body(request, {"name", "cpus", "memory_mb", "lifetime_minutes", "preload"})
        environment = services.environment_create(owner=request.user, **body)
        return Response(EnvironmentSerializer(environment).data, status=status.HTTP_201_CREATED)


class EnvironmentDetailView(APIView):
    @extend_schema(responses={200: EnvironmentSerializer, **ERRORS})
    def get(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        return Response(EnvironmentSerializer(environment).data)

    @extend_schema(responses={202: EnvironmentSerializer, **ERRORS})
    def delete(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        services.environment_delete(environment=environment)
        return Response(EnvironmentSerializer(environment).data, status=status.HTTP_202_ACCEPTED)


class EnvironmentActionView(APIView):
    """POST .../start/, .../stop/, .../restart/: queued; poll the environment for the outcome."""

    action = ""
    services = {"start": services.environment_start, "stop": services.environment_stop,
                "restart": services.environment_restart}

    @extend_schema(request=None, responses={202: EnvironmentSerializer, **ERRORS})
    def post(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        self.services[self.action](environment=environment)
        return Response(EnvironmentSerializer(environment).data, status=status.HTTP_202_ACCEPTED)


class EnvironmentExecView(APIView):
    @extend_schema(request=ExecSerializer, responses={200: ExecResultSerializer, **ERRORS})
    def post(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        body = _body(request, {"cmd", "timeout"})
        result = services.environment_exec(environment=environment, cmd=body.get("cmd"),
                                           timeout=body.get("timeout", 60))
        return Response({"exit_code": result.exit_code, "output": result.output,
                         "truncated": result.truncated})


class NestedContainerListView(APIView):
    @extend_schema(responses={200: NestedContainerSerializer(many=True), **ERRORS})
    def get(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        return Response(selectors.nested_containers(environment))
