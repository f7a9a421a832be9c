"""Files through the API: the same operations as the file browser, under
/api/v1/environments/ID/files/. `container` (a nested container) and `path` are query
parameters; uploads are multipart, like the page's."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import audit, files, selectors
from ..file_views import download_response, refuse_oversized, target_from, uploaded
from .views import ERRORS

WHERE = [OpenApiParameter("container", str, description="a nested container's name or id; none: the environment"),
         OpenApiParameter("path", str, description="absolute, or relative to /root")]


class FileListView(APIView):
    """GET: a folder's entries. POST (multipart `files`, optional `paths`): upload into it."""

    parser_classes = [MultiPartParser]

    @extend_schema(parameters=WHERE, responses={200: dict, **ERRORS})
    def get(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        target = target_from(request, environment)
        path = files.clean_path(request.GET.get("path"), default=files.HOME if not target.container else "/")
        return Response({"path": path, "container": target.container,
                         "entries": files.files_list(target=target, path=path)})

    @extend_schema(parameters=WHERE, request=None, responses={201: dict, **ERRORS})
    def post(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        folder = files.clean_path(request.GET.get("path"))
        with audit.audited(action="files.upload", request=request, target=f"{environment} {folder}"):
            # Before request.data: the declared length decides, unread.
            refuse_oversized(request)
            written = files.files_upload(target=target_from(request, environment), folder=folder,
                                         files=uploaded(request))
        return Response({"uploaded": written}, status=status.HTTP_201_CREATED)


class FileDownloadView(APIView):
    """GET ?path=...&archive=tar|zip: a file as itself, a folder as tar (default) or zip.
    (Not `format`: DRF keeps that name for choosing its own renderer.)"""

    @extend_schema(parameters=[*WHERE, OpenApiParameter("archive", str, enum=["tar", "zip"])],
                   responses={200: bytes, **ERRORS})
    def get(self, request, pk):
        environment = selectors.environment_for_user(request.user, pk)
        with audit.audited(action="files.download", request=request,
                           target=f"{environment} {request.GET.get('path', '')}"):
            download = files.files_download(target=target_from(request, environment),
                                            path=request.GET.get("path", ""),
                                            archive_format=request.GET.get("archive", ""))
        return download_response(download)
