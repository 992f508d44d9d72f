"""Who may call the HTTP API, how much at once, and from which web pages.

* The API key: required on every API route whenever one is set, and one must be set whenever the server can be
  reached from other machines (a non-loopback bind or a share link); `check_bind` refuses to start otherwise.
  Routes that change the server for everyone (the default models) need the key even on loopback.
* `SynthesisGate`: at most `concurrency` syntheses run at once, at most `queue_size` wait; one client (by address)
  may have at most `per_client` admitted at once. Beyond that: 429, at once, before any work.
* Cross-origin calls (SillyTavern's XTTS provider calls from the browser page): allowed for the API routes from the
  origins the operator lists, by default only pages served from this machine.

Request body sizes are bounded per route by FastAPI's own `max_body_size` (see the routers), which refuses a too
large Content-Length before reading anything and stops reading a body that grows past it.
"""

import hmac
import ipaddress
import re
import threading

import anyio
from fastapi import Request
from starlette.middleware.cors import CORSMiddleware

from gpt_sovits.errors import GptSovitsError

LOCAL_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
KEY_HELP = (
    "pass --api-key KEY or set the environment variable GPT_SOVITS_API_KEY (for example to the output of "
    "`python -c \"import secrets; print(secrets.token_urlsafe(32))\"`); clients send it as "
    "'Authorization: Bearer KEY' (or 'X-API-Key: KEY')"
)


class AccessError(GptSovitsError):
    """A request without the right key (401), or for an operator-only action nobody may take here (403)."""

    def __init__(self, message: str, status: int = 401):
        super().__init__(message)
        self.status = status


class TooBusy(GptSovitsError):
    """The queue is full, or this client already has as many requests in as it may (429)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume it can be reached from elsewhere


def check_bind(host: str, share: bool, api_key: str | None) -> None:
    """Refuse to serve the API beyond this machine without a key (raises SystemExit with what to do)."""
    if api_key or (is_loopback(host) and not share):
        return
    where = "a public share link" if share else f"{host}, which other machines can reach"
    raise SystemExit(
        f"Refusing to start: the server would listen on {where}, and its HTTP API needs a key there. To set one, "
        f"{KEY_HELP}. (Or listen on 127.0.0.1 only.)"
    )


class ApiKey:
    """The key check for API routes (a FastAPI dependency); `admin` routes also refuse when no key is set."""

    def __init__(self, key: str | None):
        self.key = key or None

    def presented(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            return authorization[7:].strip()
        return request.headers.get("x-api-key")

    def check(self, request: Request) -> None:
        if self.key is None:
            return
        given = self.presented(request)
        if not given or not hmac.compare_digest(given.encode(), self.key.encode()):
            raise AccessError(f"This API needs its key: send 'Authorization: Bearer KEY' ({'a wrong key was sent' if given else 'none was sent'}).")

    def check_admin(self, request: Request) -> None:
        if self.key is None:
            raise AccessError(
                "Changing the server's default models is for the operator only, and this server has no API key to "
                f"tell who that is. To allow it, {KEY_HELP}.",
                status=403,
            )
        self.check(request)


class SynthesisGate:
    """Admission (at once: queue bound and per-client share) and then a running slot (waited for)."""

    def __init__(self, concurrency: int, queue_size: int, per_client: int):
        self.concurrency, self.queue_size, self.per_client = concurrency, queue_size, per_client
        self._lock = threading.Lock()
        self._admitted = 0
        self._per_client: dict[str, int] = {}
        self._slots: anyio.Semaphore | None = None  # made in the event loop, on first use

    @property
    def admitted(self) -> int:
        """Requests running or waiting now."""
        return self._admitted

    def admit(self, client: str) -> "Ticket":
        with self._lock:
            if self._admitted >= self.concurrency + self.queue_size:
                raise TooBusy(f"The server is busy ({self._admitted} requests running or waiting); try again in a moment.")
            if self._per_client.get(client, 0) >= self.per_client:
                raise TooBusy(
                    f"You already have {self.per_client} requests running or waiting; wait for one to finish."
                )
            self._admitted += 1
            self._per_client[client] = self._per_client.get(client, 0) + 1
        return Ticket(self, client)

    def _leave(self, client: str) -> None:
        with self._lock:
            self._admitted -= 1
            self._per_client[client] -= 1
            if not self._per_client[client]:
                del self._per_client[client]

    def slots(self) -> anyio.Semaphore:
        if self._slots is None:
            self._slots = anyio.Semaphore(self.concurrency)
        return self._slots


class Ticket:
    """One admitted request: `await start()` waits for a slot; `release()` (idempotent) leaves the gate."""

    def __init__(self, gate: SynthesisGate, client: str):
        self._gate, self._client = gate, client
        self._running = self._released = False

    async def start(self) -> None:
        await self._gate.slots().acquire()
        self._running = True

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._running:
            self._gate.slots().release()
        self._gate._leave(self._client)


class ApiCors:
    """CORS for the API routes only (the mounted Gradio app keeps its own rules for its own routes)."""

    def __init__(self, app, api_prefixes: tuple[str, ...], origins: list[str] | None):
        self.app = app
        self.api_prefixes = api_prefixes
        if origins:
            self.cors = CORSMiddleware(app, allow_origins=origins, allow_methods=["*"], allow_headers=["*"])
        else:
            self.cors = CORSMiddleware(app, allow_origin_regex=LOCAL_ORIGINS, allow_methods=["*"], allow_headers=["*"])

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(self.api_prefixes):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def parse_origins(value: str | None) -> list[str] | None:
    origins = [origin.strip() for origin in re.split(r"[,\s]+", value or "") if origin.strip()]
    return origins or None
