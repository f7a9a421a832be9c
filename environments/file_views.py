"""The file browser pages: list, upload (several files or a folder, with a progress bar
in static/js/files.js) and download. The API's twins are in api/files.py; both read the
request with the helpers here and leave the work to files.py."""

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET, require_POST

from . import audit, files, selectors
from .engine import EngineError
from .errors import DindwebError, InvalidRequest, http_status

# Multipart headers and boundaries around the files: a request may exceed the files'
# own total by this much before it is refused unread.
MULTIPART_SLACK = 1024 * 1024


def target_from(request, environment):
    return files.target_for(environment, request.GET.get("container") or request.POST.get("container"))


def refuse_oversized(request) -> None:
    """Refuse by the declared length before Django parses (and stores) the files."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > files.max_upload_bytes() + MULTIPART_SLACK:
        files.check_upload_size(length)


def uploaded(request) -> list[tuple[str, object, int]]:
    """(name, file, size) of each file sent as `files`; `paths`, when sent, gives each its
    name with sub-folders (a dropped folder), in the same order."""
    sent = request.FILES.getlist("files")
    names = request.POST.getlist("paths") if "paths" in request.POST else [f.name for f in sent]
    if len(names) != len(sent):
        raise InvalidRequest("Send one path for each file, or none.")
    return [(name, upload, upload.size) for name, upload in zip(names, sent)]


def download_response(download: files.Download) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_in_thread(download.chunks), content_type=download.content_type)
    response["Content-Disposition"] = content_disposition_header(True, download.filename)
    if download.size is not None:
        response["Content-Length"] = str(download.size)
    return response


async def _in_thread(chunks):
    """Engine reads block: each chunk is read in a thread, so the server's event loop
    streams the download (a sync iterator would be read whole into memory first)."""
    iterator = iter(chunks)
    read = sync_to_async(next, thread_sensitive=False)
    try:
        while (chunk := await read(iterator, None)) is not None:
            yield chunk
    finally:
        await sync_to_async(iterator.close, thread_sensitive=False)()


def _listing_context(request, environment, *, path=None, error=None):
    container = request.GET.get("container") or request.POST.get("container") or ""
    path = files.clean_path(path if path is not None else request.GET.get("path"),
                            default=files.HOME if not container else "/")
    context = {"environment": environment, "container": container, "path": path, "entries": [],
               "crumbs": _crumbs(path), "error": error, "max_upload_mb": files.max_upload_bytes() // 2**20}
    if error is None:
        try:
            context["entries"] = files.files_list(target=target_from(request, environment), path=path)
        except (DindwebError, EngineError) as exc:
            context["error"], context["status"] = str(exc), http_status(exc)
    return context


def _crumbs(path: str) -> list[tuple[str, str]]:
    parts, crumbs = [p for p in path.split("/") if p], [("/", "/")]
    for i, part in enumerate(parts):
        crumbs.append((part, "/" + "/".join(parts[: i + 1])))
    return crumbs


@login_required
@require_GET
def file_browser(request, pk):
    environment = selectors.environment_for_user(request.user, pk)
    try:
        context = _listing_context(request, environment)
    except DindwebError as exc:
        context = _listing_context(request, environment, path="/", error=str(exc))
        context["status"] = http_status(exc)
    if request.htmx:
        return render(request, "environments/files.html#listing", context, status=context.get("status", 200))
    try:
        context["containers"] = [c for c in selectors.nested_containers(environment) if c["state"] == "running"]
    except (DindwebError, EngineError):
        context["containers"] = []
    return render(request, "environments/files.html", context, status=context.get("status", 200))


@login_required
@require_POST
def file_upload(request, pk):
    """Answers the listing of the folder (the page swaps it in), or a sentence with a 4xx."""
    environment = selectors.environment_for_user(request.user, pk)
    from_script = bool(request.htmx or request.headers.get("x-requested-with"))
    folder = request.GET.get("path")
    try:
        with audit.audited(action="files.upload", request=request, target=f"{environment}"):
            refuse_oversized(request)  # before anything reads (and stores) the files
            folder = files.clean_path(folder or request.POST.get("path"))
            written = files.files_upload(target=target_from(request, environment), folder=folder,
                                         files=uploaded(request))
    except (DindwebError, EngineError) as exc:
        if from_script:
            return HttpResponse(str(exc), status=http_status(exc), content_type="text/plain; charset=utf-8")
        context = _listing_context(request, environment, path="/", error=str(exc))
        return render(request, "environments/files.html", context, status=http_status(exc))
    sentence = f"Uploaded {len(written)} file{'s' if len(written) != 1 else ''}."
    if from_script:
        context = _listing_context(request, environment, path=folder)
        context["notice"] = sentence
        return render(request, "environments/files.html#listing", context)
    messages.success(request, sentence)
    return redirect(_browser_url(environment, request, folder))


def _browser_url(environment, request, folder) -> str:
    query = {"path": folder or ""}
    if request.POST.get("container") or request.GET.get("container"):
        query["container"] = request.POST.get("container") or request.GET.get("container")
    return f"{reverse('file_browser', args=[environment.pk])}?{urlencode(query)}"


@login_required
@require_GET
def file_download(request, pk):
    environment = selectors.environment_for_user(request.user, pk)
    try:
        with audit.audited(action="files.download", request=request,
                           target=f"{environment} {request.GET.get('path', '')}"):
            download = files.files_download(target=target_from(request, environment),
                                            path=request.GET.get("path", ""),
                                            archive_format=request.GET.get("archive", ""))
    except (DindwebError, EngineError) as exc:
        return HttpResponse(str(exc), status=http_status(exc), content_type="text/plain; charset=utf-8")
    return download_response(download)
