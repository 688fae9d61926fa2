"""Real receivers of notifications on loopback, for the delivery tests: a mail server
(aiosmtpd) and an HTTP receiver that verifies every request with the Standard Webhooks
package's own verifier and deduplicates by the delivery id, as a careful receiver would.

Both listen on 127.0.0.1 only; nothing in these tests reaches past this machine.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .parallel_support import free_port

__all__ = ["Mailbox", "Receiver", "free_port", "wait_for"]


def wait_for(done: Callable[[], bool], *, seconds: float = 20.0, what: str = "it") -> None:
    """Wait until ``done()``, checking every 50 ms, at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.05)


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender that went away mid-answer (the dispatcher killed): nothing to say


@dataclass
class Hook:
    """One request the receiver took, and when it arrived (``time.time()``)."""

    id: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = 0.0


@dataclass
class Receiver:
    """A webhook receiver on ``http://127.0.0.1:<port>/hook``.

    ``secret`` must be set (the subscription's) before requests come: each is verified with
    ``standardwebhooks.Webhook(secret).verify``; one that does not verify is answered 401 and
    counted in ``refused``. ``status`` is what a verified request is answered with; while
    ``hold`` is set the receiver takes a request, notes it (``arrived``), and waits for
    ``hold`` to clear before answering. ``taken`` lists every verified request, ``unique``
    the first of each delivery id: what a receiver that deduplicates acts on.
    """

    port: int = field(default_factory=free_port)
    secret: str | None = None
    status: int = 200
    hold: threading.Event | None = None
    taken: list[Hook] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def unique(self) -> dict[str, Hook]:
        with self._lock:
            first: dict[str, Hook] = {}
            for hook in self.taken:
                first.setdefault(hook.id, hook)
            return first

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.time()
                length = int(self.headers.get("content-length", "0"))
                data = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    assert receiver.secret is not None, "no secret to verify with"
                    body = Webhook(receiver.secret).verify(data, headers)
                except (WebhookVerificationError, AssertionError, ValueError) as exc:
                    receiver.refused.append(str(exc))
                    self._answer(401)
                    return
                with receiver._lock:
                    receiver.taken.append(Hook(headers["webhook-id"], body, headers, arrived))
                receiver.arrived.set()
                hold = receiver.hold
                if hold is not None:
                    while hold.is_set():
                        time.sleep(0.02)
                self._answer(receiver.status)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = _Quiet(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Down: the port refuses connections until ``start`` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Inbox:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.box.lock:
            self.box.messages.append(message)
        return "250 taken"


@dataclass
class Mailbox:
    """A mail server on ``127.0.0.1:<port>`` (aiosmtpd) keeping every message it takes."""

    port: int = field(default_factory=free_port)
    messages: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    def start(self) -> Mailbox:
        self._controller = Controller(_Inbox(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def by_id(self) -> dict[str, Any]:
        """The first message of each Message-ID: what a deduplicating reader keeps."""
        with self.lock:
            first: dict[str, Any] = {}
            for message in self.messages:
                first.setdefault(str(message["Message-ID"]), message)
            return first


def body_text(message: Any) -> str:
    return str(message.get_content())


def as_json(text: str) -> Any:
    return json.loads(text)
