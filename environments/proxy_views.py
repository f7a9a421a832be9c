"""Opening an environment's ports in the browser: /environments/ID/ports/PORT/... is
forwarded to that port of the environment's own address (websockets: proxy_consumer.py).

Only those who may see the environment get through (the same selector as every page);
where the request goes is the environment's address from the engine, whatever the path,
query or headers say.
"""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from . import ports, proxy, selectors
from .engine import EngineError
from .errors import DindwebError, http_status


def _prefix(pk, port) -> str:
    return reverse("port_proxy", kwargs={"pk": pk, "port": port, "path": ""}).rstrip("/")


def _page(request, environment, port, sentence: str, status: int):
    """The explanatory page: what went wrong, and where to go from here."""
    return render(request, "environments/port_unreachable.html",
                  {"environment": environment, "port": port, "sentence": sentence}, status=status)


# Rendering reads the user and the database: not on the event loop.
_refused = sync_to_async(_page)


# The nested app's own forms post here without our CSRF token. That is safe: the session
# cookie is SameSite=Lax, so another site's page cannot post here as the user.
@csrf_exempt
@login_required
async def port_proxy(request, pk, port, path):
    # The path and query exactly as the client sent them, after /ports/PORT.
    full_path = request.get_full_path()
    target = full_path[full_path.index(f"/ports/{port}/") + len(f"/ports/{port}"):]
    return await proxied(request, pk=pk, port=port, target=target, prefix=None,
                         sandbox=settings.DINDWEB_PROXY_SANDBOX)


async def proxied(request, *, pk, port, target: str, prefix: str | None, sandbox: bool):
    """The answer of the environment's port to this request. `prefix` is where the app
    lives on our side (None: under /environments/ID/ports/PORT; "" on a host of its own)."""
    user = await request.auser()
    environment = await sync_to_async(selectors.environment_for_user)(user, pk)
    origin = request.headers.get("Origin")
    if origin and origin != f"{request.scheme}://{request.get_host()}":
        # Another site's page (another port's, on port host names) posting with the
        # viewer's cookie: the app would take it for the viewer.
        return await _refused(request, environment, port, "Requests from other sites cannot reach"
                              " this app through the dashboard.", 403)
    try:
        port = ports.checked_port(port)
        address = await sync_to_async(ports.environment_address)(environment)
    except (DindwebError, EngineError) as exc:
        return await _refused(request, environment, port, str(exc), http_status(exc))
    if prefix is None:
        prefix = _prefix(environment.pk, port)
    headers = proxy.request_headers(request.META, prefix=prefix, host=request.get_host(),
                                    scheme=request.scheme, remote=request.META.get("REMOTE_ADDR", ""))
    try:
        upstream = await proxy.forward(method=request.method, address=address, port=port, target=target,
                                       headers=headers, body=proxy.request_body(request))
    except proxy.Unreachable as exc:
        await sync_to_async(ports.forget_address)(environment)
        return await _refused(request, environment, port, str(exc), 502)
    response = StreamingHttpResponse(upstream.body, status=upstream.status)
    origin = f"http://{address}" if port == 80 else f"http://{address}:{port}"
    for name, value in proxy.response_headers(upstream.headers, origin=origin, prefix=prefix, sandbox=sandbox):
        if name == "set-cookie":
            # A response holds one value per header name; its cookies hold any number.
            response.cookies.load(value)
        else:
            response[name] = value
    # Our own clickjacking header is for our pages; the app says for itself.
    response.xframe_options_exempt = True
    return response


@login_required
@require_GET
def port_open(request, pk):
    """The "open any port" field: checks the number, then goes to the proxy."""
    environment = selectors.environment_for_user(request.user, pk)
    try:
        port = ports.checked_port(request.GET.get("port"))
    except DindwebError as exc:
        return _page(request, environment, request.GET.get("port", ""), str(exc), 400)
    return HttpResponseRedirect(reverse("port_proxy", kwargs={"pk": environment.pk, "port": port, "path": ""}))
