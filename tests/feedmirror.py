"""A feed mirror on a loopback port: a stdlib ``ThreadingHTTPServer`` in a thread serving a
snapshot folder (``scanner/feeds/shipped`` by default) in the mirror layout, as an internal
mirror or the public sources would.

``faults`` maps a layout path (``kev/known_exploited_vulnerabilities.json``) to how that one file
goes wrong: ``truncate`` (the full Content-Length announced, half the body sent, connection
closed), ``oversize`` (a Content-Length over the feed's cap), ``html`` (an HTML error page with
200), ``schema`` (valid JSON of the wrong shape), ``404``. Every request is logged in ``hits``.
It also answers as an HTTP proxy would (absolute-form requests, logged in ``proxied``), so a test
can show that ``HTTP_PROXY`` is honoured.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[1] / "scanner" / "feeds" / "shipped"


class FeedMirror:
    def __init__(self, root: Path = SHIPPED, faults: dict[str, str] | None = None) -> None:
        self.root = root
        self.faults = dict(faults or {})
        self.hits: list[str] = []
        self.proxied: list[str] = []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:
                target = self.path
                if target.startswith("http://"):  # asked as a proxy: absolute-form target
                    mirror.proxied.append(target)
                    target = "/" + target.split("/", 3)[3]
                rel = target.lstrip("/").split("?", 1)[0]
                mirror.hits.append(rel)
                fault = mirror.faults.get(rel)
                path = mirror.root / rel
                if fault == "404" or ".." in rel or not path.is_file():
                    self._send(404, b"<html>404 Not Found</html>", "text/html")
                    return
                body = path.read_bytes()
                if fault == "html":
                    self._send(
                        200, b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/html"
                    )
                elif fault == "schema":
                    self._send(200, b'{"title": "something else", "items": []}', "application/json")
                elif fault == "oversize":
                    self.send_response(200)
                    self.send_header("Content-Length", str(1 << 30))
                    self.end_headers()
                    self.wfile.write(body[:1024])
                    self.close_connection = True
                elif fault == "truncate":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    self._send(200, body, "application/octet-stream")

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FeedMirror:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def feed_mirror(root: Path = SHIPPED, faults: dict[str, str] | None = None) -> Iterator[FeedMirror]:
    m = FeedMirror(root, faults).start()
    try:
        yield m
    finally:
        m.stop()
