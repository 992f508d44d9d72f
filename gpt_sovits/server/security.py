"""Who may call the HTTP API, how much at once, and from which web pages.

* The API key: required on every API route whenever one is set, and one must be set whenever the server can be
  reached from other machines (a non-loopback bind or a share link); `check_bind` refuses to start otherwise.
  Routes that change the server for everyone (the default models) need the key even on loopback.
* Administrative actions (downloading models, reloading the model lists, switching the API's default models) are
  the operator's: on a public bind they are off unless `--admin` (with a UI login) turns them on (`check_admin_bind`).
* The gate (`gpt_sovits.service.SynthesisGate`, shared with the UI): at most `concurrency` syntheses run at once,
  at most `queue_size` wait; one client (by address) may have at most `per_client` admitted at once. Beyond that:
  429, at once, before any work.
* Cross-origin calls (SillyTavern's XTTS provider calls from the browser page): allowed for the API routes from the
  origins the operator lists, by default only pages served from this machine.

Request body sizes are bounded per route by FastAPI's own `max_body_size` (see the routers), which refuses a too
large Content-Length before reading anything and stops reading a body that grows past it.
"""

import hmac
import ipaddress
import re

from fastapi import Request
from starlette.middleware.cors import CORSMiddleware

from gpt_sovits.errors import GptSovitsError
from gpt_sovits.messages import Message, terminal_text

LOCAL_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
KEY_HELP = Message(
    "pass --api-key KEY or set the environment variable GPT_SOVITS_API_KEY (for example to the output of "
    "`python -c \"import secrets; print(secrets.token_urlsafe(32))\"`); clients send it as "
    "'Authorization: Bearer KEY' (or 'X-API-Key: KEY')"
)


class AccessError(GptSovitsError):
    """A request without the right key (401), or for an operator-only action nobody may take here (403)."""

    def __init__(self, message: Message, status: int = 401):
        super().__init__(message)
        self.status = status


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
    where = Message("a public share link") if share else Message("{host}, which other machines can reach", host=host)
    raise SystemExit(terminal_text(Message(
        "Refusing to start: the server would listen on {where}, and its HTTP API needs a key there. To set one, "
        "{help}. (Or listen on 127.0.0.1 only.)",
        where=where, help=KEY_HELP,
    )))


def check_admin_bind(public: bool, admin: bool, login: bool) -> bool:
    """Whether administrative actions are on: always on this machine only; on a public bind only with `--admin`,
    and then only behind a UI login (the login is what tells the operator from a visitor). Raises SystemExit for
    `--admin` on a public bind without a login."""
    if not public:
        return True
    if admin and not login:
        raise SystemExit(terminal_text(Message(
            "Refusing to start: --admin on a public server would let every visitor download models and change the "
            "server's default models. Add a login for the web UI (--auth USER:PASSWORD or the environment variable "
            "GPT_SOVITS_AUTH), or leave --admin out."
        )))
    return admin


class ApiKey:
    """The key check for API routes (a FastAPI dependency); `admin` routes also refuse when no key is set, or when
    administrative actions are off (a public server without --admin)."""

    def __init__(self, key: str | None, admin: bool = True):
        self.key = key or None
        self.admin = admin

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
            if given:
                raise AccessError(Message("This API needs its key: send 'Authorization: Bearer KEY' (a wrong key was sent)."))
            raise AccessError(Message("This API needs its key: send 'Authorization: Bearer KEY' (none was sent)."))

    def check_admin(self, request: Request) -> None:
        if not self.admin:
            raise AccessError(Message(
                "Changing the server's default models is off on this public server. The operator can turn it on "
                "with --admin (together with a UI login)."
            ), status=403)  # fmt: skip
        if self.key is None:
            raise AccessError(Message(
                "Changing the server's default models is for the operator only, and this server has no API key to "
                "tell who that is. To allow it, {help}.",
                help=KEY_HELP,
            ), status=403)  # fmt: skip
        self.check(request)


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
