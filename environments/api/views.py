"""The JSON API under /api/v1/. Same selectors and services as the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import audit, selectors, services
from ..errors import InvalidRequest
from ..throttles import check_create_rate
from .serializers import (EnvironmentCreateSerializer, EnvironmentSerializer, ErrorSerializer,
                          ExecResultSerializer, ExecSerializer, ExtendSerializer, NestedContainerSerializer,
                          ResizeSerializer)

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
        with audit.audited(action="environment.create", request=request,
                           target=f"{request.user.username}/{body.get('name')}"):
            check_create_rate(request)
            environment = services.environment_create(owner=request.user, **body)
        return Response(EnvironmentSerializer(environment).data, status=status.HTTP_201_CREATED)


class EnvironmentDetailView(APIView):
    @extend_schema(responses={200: EnvironmentSerializer, **ERRORS})
    def get(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        return Response(EnvironmentSerializer(environment).data)

    @extend_schema(responses={202: EnvironmentSerializer, **ERRORS})
    def delete(self, request, pk):
        environment = selectors.environment_to_manage(request.user, pk)
        with audit.audited(action="environment.delete", target=str(environment), request=request):
            services.environment_delete(environment=environment)
        return Response(EnvironmentSerializer(environment).data, status=status.HTTP_202_ACCEPTED)


class EnvironmentActionView(APIView):
    """POST .../start/, .../stop/, .../restart/: queued; poll the environment for the outcome."""

    action = ""
    services = {"start": services.environment_start, "stop": services.environment_stop,
                "restart": services.environment_restart}

    @extend_schema(request=None, responses={202: EnvironmentSerializer, **ERRORS})
    def post(self, request, pk):
        environment = selectors.environment_to_manage(request.user, pk)
        with audit.audited(action=f"environment.{self.action}", target=str(environment), request=request):
            self.services[self.action](environment=environment)
        return Response(EnvironmentSerializer(environment).data, status=status.HTTP_202_ACCEPTED)


class EnvironmentExecView(APIView):
    @extend_schema(request=ExecSerializer, responses={200: ExecResultSerializer, **ERRORS})
    def post(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        body = _body(request, {"cmd", "timeout"})
        with audit.audited(action="environment.exec", target=str(environment), request=request):
            result = services.environment_exec(environment=environment, cmd=body.get("cmd"),
                                               timeout=body.get("timeout", 60))
        return Response({"exit_code": result.exit_code, "output": result.output,
                         "truncated": result.truncated})


class NestedContainerListView(APIView):
    @extend_schema(responses={200: NestedContainerSerializer(many=True), **ERRORS})
    def get(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        return Response(selectors.nested_containers(environment))


class EnvironmentExtendView(APIView):
    """POST {"minutes": N}: the environment lives N minutes from now (within the quota)."""

    @extend_schema(request=ExtendSerializer, responses={200: EnvironmentSerializer, **ERRORS})
    def post(self, request, pk):
        environment = selectors.environment_to_manage(request.user, pk)
        body = _body(request, {"minutes"})
        with audit.audited(action="environment.extend", target=str(environment), request=request):
            services.environment_extend(environment=environment, minutes=body.get("minutes"))
        return Response(EnvironmentSerializer(environment).data)


class EnvironmentResizeView(APIView):
    """POST {"cpus", "memory_mb"}: new limits, applied by the engine at once (within the quota)."""

    @extend_schema(request=ResizeSerializer, responses={200: EnvironmentSerializer, **ERRORS})
    def post(self, request, pk):
        environment = selectors.environment_to_manage(request.user, pk)
        body = _body(request, {"cpus", "memory_mb"})
        with audit.audited(action="environment.resize", target=str(environment), request=request):
            services.environment_resize(environment=environment, cpus=body.get("cpus", environment.cpus),
                                        memory_mb=body.get("memory_mb", environment.memory_mb))
        return Response(EnvironmentSerializer(environment).data)
