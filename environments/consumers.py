"""Websockets: interactive shells, live logs and stats of environments and nested containers.

Each consumer authorises in connect() through the same selector the pages use and closes
with 4403 (not allowed), 4404 (no such environment or container) or 4409 (not running).
Engine streams block, so each is read by a thread of its own (streams.py); the thread
hands what it reads to the event loop, and ends when the websocket closes.
"""

import asyncio
import json
import logging
import threading
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db.models import F
from django.db.models.functions import Greatest
from django.http import Http404
from django.utils import timezone

from . import audit, live, selectors
from .engine import EngineError
from .errors import NotAllowed
from .hosts import engine_for
from .models import Environment, Seat
from .streams import SHARED, WATCH, LineBuffer, LogFollower, ShellSession, stats_frame

log = logging.getLogger(__name__)

NOT_ALLOWED, NOT_FOUND, NOT_RUNNING = 4403, 4404, 4409
LOG_BATCH_LINES = 5000   # lines in one frame at most
LOG_FRAME_SECONDS = 0.05  # while output trickles, at most twenty frames a second
SHELL_QUEUE_CHUNKS = 64  # a reader waits (so does the shell's output) past this many
ACTIVITY_EVERY_SECONDS = 60  # typing marks the environment active at most this often


class EnvironmentConsumer(AsyncWebsocketConsumer):
    """Authorises, finds the environment (and nested container), then `start()`s."""

    async def connect(self):
        await self.accept()  # accept first: a refusal's close code reaches the client only then
        kwargs = self.scope["url_route"]["kwargs"]
        self.nested = kwargs.get("cid")
        self.stopped = threading.Event()
        refusal = await self._check(self.scope["user"], kwargs["pk"])
        if refusal:
            code, message = refusal
            await self.send_json({"type": "error", "message": message})
            await self.close(code)
            return
        self.engine = engine_for(self.environment.host)
        try:
            await self.start()
        except EngineError as exc:
            await self.send_json({"type": "error", "message": str(exc)})
            await self.close(1011)

    @database_sync_to_async
    def _check(self, user, pk):
        try:
            self.environment = selectors.environment_for_stream(user, pk)
        except NotAllowed as exc:
            return NOT_ALLOWED, exc.message
        except Http404:
            return NOT_FOUND, "No such environment."
        # A classroom seat: its terminal is shared, and trainers in it are shown to the student.
        self.seat = Seat.objects.filter(environment=self.environment).select_related("classroom").first()
        self.helping = self.seat is not None and self.seat.student_id != user.pk
        refusal = self.refusal(user)
        if refusal:
            return refusal
        if self.environment.status != Environment.Status.RUNNING:
            return NOT_RUNNING, f"The environment is {self.environment.status}: start it first."
        try:
            if self.nested and not selectors.nested_container_exists(self.environment, self.nested):
                return NOT_FOUND, f"There is no nested container {self.nested}."
        except EngineError as exc:
            return NOT_RUNNING, str(exc)
        return None

    def refusal(self, user):
        """A consumer's own reason to refuse (after the shared checks), or None."""
        return None

    async def start(self):
        raise NotImplementedError

    @database_sync_to_async
    def mark_attached(self, change: int) -> None:
        """Shells and log viewers attached keep an environment from counting as idle."""
        Environment.objects.filter(pk=self.environment.pk).update(
            attached=Greatest(F("attached") + change, 0), last_activity_at=timezone.now())

    async def send_json(self, content):
        await self.send(text_data=json.dumps(content))

    def query(self, name, default=None):
        values = parse_qs(self.scope.get("query_string", b"").decode()).get(name)
        return values[0] if values else default

    def run_in_thread(self, target, *args):
        """A daemon thread per stream: blocking reads must never run on the event loop."""
        thread = threading.Thread(target=target, args=args, daemon=True,
                                  name=f"dindweb-{type(self).__name__}-{self.environment.pk}")
        thread.start()
        return thread


class ShellConsumer(EnvironmentConsumer):
    """Binary frames carry terminal bytes both ways; text frames carry JSON control."""

    session = None
    read_only = False

    async def start(self):
        mode = None
        if self.seat is not None and self.nested is None:
            mode = WATCH if self.read_only else SHARED
        session = ShellSession(self.engine, self.environment.container_id, self.nested, mode=mode)
        await asyncio.to_thread(session.open)
        self.session = session  # only now: input that arrives after a failed start is ignored
        await self.mark_attached(+1)
        if self.helping and mode:
            await self.mark_watching(+1)
        await audit.arecord(action="shell.open", actor=self.scope["user"], ip=audit.scope_ip(self.scope),
                            target=f"{self.environment}" + (f" container {self.nested}" if self.nested else ""))
        self.active_at = asyncio.get_running_loop().time()
        self.output = asyncio.Queue(maxsize=SHELL_QUEUE_CHUNKS)
        self.run_in_thread(self._read, asyncio.get_running_loop())
        # Kept on the consumer: the event loop holds tasks only weakly.
        self.pump = asyncio.create_task(self._pump())

    def _read(self, loop):
        while True:
            data = self.session.read()
            try:
                # Blocks this thread while the queue is full, so a flood of output is
                # held back at the engine instead of piling up in our memory.
                asyncio.run_coroutine_threadsafe(self.output.put(data), loop).result()
            except RuntimeError:
                return  # the event loop is gone (server shutting down)
            if not data:
                return

    async def _pump(self):
        while True:
            data = await self.output.get()
            if not data:
                break
            await self.send(bytes_data=data)
        if self.stopped.is_set():
            return
        code = await asyncio.to_thread(self.session.exit_code)
        await self.send_json({"type": "exit", "code": code})
        await self.close(1000)

    async def receive(self, text_data=None, bytes_data=None):
        if self.session is None:
            return
        if self.read_only:
            return  # watching: keys and resizes stay with the student
        if bytes_data is not None:
            await asyncio.to_thread(self.session.write, bytes_data)
            now = asyncio.get_running_loop().time()
            if now - self.active_at > ACTIVITY_EVERY_SECONDS:
                self.active_at = now
                await self.mark_attached(0)
            return
        try:
            message = json.loads(text_data or "")
            if message.get("type") == "resize":
                cols, rows = int(message["cols"]), int(message["rows"])
                if 1 <= cols <= 1000 and 1 <= rows <= 1000:
                    await asyncio.to_thread(self.session.resize, cols=cols, rows=rows)
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
            await self.send_json({"type": "error", "message": "Control frames are JSON like "
                                  '{"type": "resize", "cols": 80, "rows": 24}.'})
        except EngineError:
            pass  # the shell just ended; the exit frame follows

    async def disconnect(self, code):
        self.stopped.set()
        if self.session is not None:
            await asyncio.to_thread(self.session.close)
            await self.mark_attached(-1)
            if self.helping and self.session.mode:
                await self.mark_watching(-1)

    @database_sync_to_async
    def mark_watching(self, change: int) -> None:
        Seat.objects.filter(pk=self.seat.pk).update(watchers=Greatest(F("watchers") + change, 0))


class WatchConsumer(ShellConsumer):
    """A trainer's read-only view of a seat's terminal: the same screen the student sees;
    nothing typed here reaches it. (Taking over is the ordinary shell socket.)"""

    read_only = True

    def refusal(self, user):
        if self.seat is None:
            return NOT_FOUND, "This environment is not a classroom seat."
        if not self.helping:
            return NOT_ALLOWED, "Only the class's trainer watches a seat."
        return None


class LogConsumer(EnvironmentConsumer):
    """`{"type": "lines", "lines": [...]}` frames, batched; `{"type": "end"}` at the end."""

    follower = None

    async def start(self):
        tail = self.query("tail", "100")
        tail = tail if tail == "all" or (tail.isdigit() and int(tail) <= 1_000_000) else "100"
        self.timestamps = self.query("timestamps", "1") == "1"
        follower = LogFollower(self.engine, self.environment.container_id, self.nested, tail=tail)
        await asyncio.to_thread(follower.open)
        self.follower = follower
        await self.mark_attached(+1)
        self.buffer = LineBuffer()
        self.wake = asyncio.Event()
        self.run_in_thread(self._read, asyncio.get_running_loop())
        self.pump = asyncio.create_task(self._pump())

    def _read(self, loop):
        try:
            for lines in self.follower.batches():
                self.buffer.put(lines)
                loop.call_soon_threadsafe(self.wake.set)
        except Exception:  # noqa: BLE001 - the stream broke: say "end" rather than hang
            log.exception("Log stream of environment %s failed", self.environment.pk)
        finally:
            self.buffer.end()
            try:
                loop.call_soon_threadsafe(self.wake.set)
            except RuntimeError:
                pass

    async def _pump(self):
        while True:
            await self.wake.wait()
            self.wake.clear()
            while True:
                lines, dropped, ended = self.buffer.take(LOG_BATCH_LINES)
                if dropped:
                    await self.send_json({"type": "dropped", "count": dropped})
                if lines:
                    await self.send_json({"type": "lines", "lines": [
                        {**line.as_dict(), "ts": line.ts if self.timestamps else ""} for line in lines]})
                if ended:
                    if not self.stopped.is_set():
                        await self.send_json({"type": "end"})
                        await self.close(1000)
                    return
                if not lines:
                    break
                if len(lines) < LOG_BATCH_LINES:
                    # A trickle: let lines gather into the next frame rather than sending
                    # many small ones. A full frame means a flood: the next goes at once.
                    await asyncio.sleep(LOG_FRAME_SECONDS)

    async def disconnect(self, code):
        self.stopped.set()
        if self.follower is not None:
            await asyncio.to_thread(self.follower.close)
            await self.mark_attached(-1)


class StatsConsumer(EnvironmentConsumer):
    """CPU, memory and process count of the environment, about once a second."""

    async def start(self):
        self.run_in_thread(self._read, asyncio.get_running_loop())

    def _read(self, loop):
        try:
            for raw in self.engine.container_stats(self.environment.container_id):
                if self.stopped.is_set():
                    return
                frame = stats_frame(raw)
                if frame is not None:
                    asyncio.run_coroutine_threadsafe(self.send_json(frame), loop)
        except (EngineError, RuntimeError):
            return

    async def disconnect(self, code):
        self.stopped.set()


class StatusConsumer(AsyncWebsocketConsumer):
    """The environment's status each time it changes, in any status and from whichever
    process changed it (live.announce): `{"type": "status", "status", "status_detail",
    "steps"}`, the first at once; `{"type": "gone"}` when it has been deleted."""

    group = None

    async def connect(self):
        await self.accept()
        pk = self.scope["url_route"]["kwargs"]["pk"]
        try:
            await database_sync_to_async(selectors.environment_for_stream)(self.scope["user"], pk)
        except NotAllowed as exc:
            await self._refuse(NOT_ALLOWED, exc.message)
            return
        except Http404:
            await self._refuse(NOT_FOUND, "No such environment.")
            return
        live.serving_loop = asyncio.get_running_loop()
        self.pk, self.group = int(pk), live.group_name(int(pk))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.status_changed({})  # it may have moved on since the page was made

    async def _refuse(self, code, message):
        await self.send(text_data=json.dumps({"type": "error", "message": message}))
        await self.close(code)

    async def status_changed(self, event):
        row = await database_sync_to_async(
            lambda: Environment.objects.filter(pk=self.pk).values("status", "status_detail", "steps").first())()
        if row is None:
            await self.send(text_data=json.dumps({"type": "gone"}))
            await self.close(1000)
            return
        await self.send(text_data=json.dumps({"type": "status", **row}))

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
