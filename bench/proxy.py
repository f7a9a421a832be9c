"""6. Port proxy: a nested web server's page fetched through the dashboard
(/environments/ID/ports/8080/, with the session cookie) against the same page fetched
directly at the environment's address, in the same run, the two sides alternating.

Two figures: the latency of one request at a time (so the difference is what the proxy
adds), and requests per second with several clients at once. The nested server is
busybox httpd, which closes each connection after its answer: both sides reconnect to
it for every request alike, and the client keeps its own connection to the dashboard.
"""

import http.client
import threading
import time

from . import report
from .runner import NESTED_IMAGE, BenchError, Server, environment_container, say

TARGET_ADDED_MS = 10
# A class of 30 each loading a page and a few of its files a second. (Against busybox
# httpd, a C server answering from the next room, a ratio would say little.)
TARGET_RPS = 100
BLOCKS = 10
PAGE = "proxied page " * 40  # about half a kilobyte
WEB = f"mkdir -p /www && printf '%s' '{PAGE}' > /www/index.html && exec httpd -f -p 80 -h /www"


class Side:
    """One way to fetch the page: through the dashboard, or straight to the environment."""

    def __init__(self, host: str, port: int, path: str, headers: dict, page: bytes | None = PAGE.encode()):
        self.host, self.port, self.path, self.headers, self.page = host, port, path, headers, page

    def connection(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def fetch(self, connection) -> float:
        start = time.perf_counter()
        connection.request("GET", self.path, headers=self.headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200 or (self.page and self.page != body):
            raise BenchError(f"GET {self.host}:{self.port}{self.path} answered {response.status}: {body[:200]!r}")
        if response.will_close:
            connection.close()  # http.client opens a new one on the next request
        return elapsed


def _latencies(side: Side, count: int) -> list[float]:
    connection = side.connection()
    try:
        return [side.fetch(connection) * 1000 for _ in range(count)]
    finally:
        connection.close()


def _throughput(side: Side, clients: int, seconds: float) -> float:
    done, errors = [0] * clients, []
    deadline = time.monotonic() + seconds

    def client(i):
        connection = side.connection()
        try:
            while time.monotonic() < deadline:
                side.fetch(connection)
                done[i] += 1
        except Exception as exc:  # noqa: BLE001 - reported below, the run stops
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise BenchError(f"A client failed: {errors[0]}")
    return sum(done) / (time.monotonic() - started)


def _sides(server: Server, environment: dict) -> tuple[Side, Side]:
    server.api("POST", f"/environments/{environment['id']}/exec/",
               {"cmd": ["docker", "run", "-d", "-p", "8080:80", NESTED_IMAGE, "sh", "-c", WEB]})
    container = environment_container(environment["name"])
    address = container.attrs["NetworkSettings"]["Networks"][container.name]["IPAddress"]
    proxied = Side("127.0.0.1", server.port, f"/environments/{environment['id']}/ports/8080/",
                   {"Cookie": server.cookie})
    direct = Side(address, 8080, "/", {})
    deadline = time.monotonic() + 30
    while True:
        try:
            _latencies(direct, 1)
            _latencies(proxied, 1)
            return proxied, direct
        except (BenchError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run(server: Server, environment: dict, *, requests: int, clients: int, seconds: float,
        rounds: int = 3) -> list[dict]:
    proxied, direct = _sides(server, environment)
    _latencies(proxied, 20), _latencies(direct, 20)  # warm up both
    # What any page of the dashboard costs, for scale: the proxy is a page like it.
    dashboard = Side("127.0.0.1", server.port, f"/environments/{environment['id']}/status/",
                     {"Cookie": server.cookie}, page=None)
    ours, baseline, pages = [], [], []
    per_block = max(1, requests // BLOCKS)
    for _ in range(BLOCKS):
        ours += _latencies(proxied, per_block)
        baseline += _latencies(direct, per_block)
        pages += _latencies(dashboard, max(1, per_block // 5))
    ours_rps, base_rps = [], []
    for _ in range(rounds):
        ours_rps.append(_throughput(proxied, clients, seconds))
        base_rps.append(_throughput(direct, clients, seconds))
    ours_f, base_f = report.figures(ours), report.figures(baseline)
    added = ours_f["p50"] - base_f["p50"]
    rps = report.figures(ours_rps)["median"]
    page_p50 = report.figures(pages)["p50"]
    say(f"  added at p50: {added:.2f} ms (a dashboard page: p50 {page_p50:.2f} ms); {rps:.0f} requests/s")
    how = (f"busybox httpd in a nested container, published on the environment's port 8080; a"
           f" {len(PAGE)}-byte page")
    return [
        report.result(
            id="proxy-latency", title=f"Port proxy, one request at a time ({len(ours)} requests)", unit="ms",
            ours=ours, baseline=baseline, baseline_label="direct to the environment's address", figure="p50",
            target=f"≤ {TARGET_ADDED_MS} ms added at p50", met=added <= TARGET_ADDED_MS,
            notes=[f"added by the proxy: {added:.2f} ms at p50, {ours_f['p99'] - base_f['p99']:.2f} ms at p99;"
                   f" for scale, a small page of the dashboard itself (an environment's status) took"
                   f" p50 {page_p50:.2f} ms in the same run; {how}; the sides alternate in blocks of {per_block}"],
            extra={"added_p50_ms": added, "added_p99_ms": ours_f["p99"] - base_f["p99"],
                   "dashboard_page_p50_ms": page_p50}),
        report.result(
            id="proxy-throughput", title=f"Port proxy, {clients} clients at once", unit="requests/s",
            ours=ours_rps, baseline=base_rps, baseline_label="direct to the environment's address",
            figure="median", higher_is_better=True, target=f"≥ {TARGET_RPS} requests/s", met=rps >= TARGET_RPS,
            notes=[f"{rounds} rounds of {seconds:.0f} s on each side, alternating; {how}; the dashboard's"
                   f" proxy shares the 2 cores with the clients and the nested server"]),
    ]
