"""Fixtures for the classifier's tests: a real HTTP server on an ephemeral port."""

import contextlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HTTPReceiver:
    """A real HTTP server on 127.0.0.1; each request takes the next scripted answer.

    An answer is a dict: {"status": 500}, {"status": 200, "body": b"...", "type": "image/png"},
    {"sleep": 3} (hang before answering), {"redirect": "http://..."},
    {"drip": b"...", "every": 0.5} (send the body one chunk at a time). When the script
    runs out, the last answer repeats.
    """

    url: str
    script: list[dict] = field(default_factory=lambda: [{"status": 200}])
    received: list[Received] = field(default_factory=list)

    def answer(self) -> dict:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


@pytest.fixture
def http_receiver():
    receiver = HTTPReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the test output quiet
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            receiver.received.append(
                Received(self.command, self.path, dict(self.headers.items()), body)
            )
            answer = receiver.answer()
            # The client may give up first (a timeout under test).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._reply(answer)

        def _reply(self, answer: dict) -> None:
            if "sleep" in answer:
                time.sleep(answer["sleep"])
            if "redirect" in answer:
                self.send_response(answer.get("status", 302))
                self.send_header("Location", answer["redirect"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            payload = answer.get("body", b"ok")
            self.send_response(answer.get("status", 200))
            self.send_header("Content-Type", answer.get("type", "text/plain"))
            if "drip" in answer:
                # No Content-Length: the client only learns the size by reading it all.
                self.end_headers()
                for _ in range(answer.get("times", 1000)):
                    self.wfile.write(answer["drip"])
                    self.wfile.flush()
                    time.sleep(answer.get("every", 0.2))
                return
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # shutdown() waits for the serving loop to look at its flag, once per poll_interval
    # (0.5 s by default): that was half a second at the end of every test using this.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield receiver
    server.shutdown()
    server.server_close()
