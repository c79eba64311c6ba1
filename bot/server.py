"""One aiohttp server for every webhook (WeCom callbacks, Telegram webhook mode).

Channels add their routes; the server owns listening and shutdown. Bodies are capped so an
oversized request is refused before it is read into memory.
"""

from __future__ import annotations

import errno
import socket

from aiohttp import web

MAX_BODY_BYTES = 1024 * 1024


def worker_name(channel: str, port: int | str) -> str:
    """This process's name in the inbox and outbox (coach/mailbox.py): the same after a
    restart on the same host and port, so a restarted worker takes up its own unfinished
    messages at once; different for every worker of a deployment."""
    return f"{socket.gethostname()}:{channel}:{port}"


class ListenError(OSError):
    """This worker cannot listen on `host:port` (another process has it, or the address is
    not this machine's); start-up turns it into one line naming the config key."""

    def __init__(self, host: str, port: int, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror)
        self.host, self.port = host, port
        self.in_use = cause.errno == errno.EADDRINUSE


def check_free(listens: list[tuple[str, int]]) -> None:
    """Raise ListenError for an address this process cannot listen on, before anything
    starts: a second worker started on a taken port would carry the first one's name and,
    starting its channels, take that live worker's messages as its own."""
    for host, port in dict.fromkeys(listens):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise ListenError(host, port, exc) from exc


class WebhookServer:
    def __init__(self) -> None:
        self.app = web.Application(client_max_size=MAX_BODY_BYTES)
        self.app.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None
        self._sites: dict[tuple[str, int], web.TCPSite] = {}

    async def _health(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    @property
    def has_routes(self) -> bool:
        return len(self.app.router.routes()) > 1

    async def start(self, listens: list[tuple[str, int]]) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        for host, port in dict.fromkeys(listens):
            site = web.TCPSite(self._runner, host, port)
            try:
                await site.start()
            except OSError as exc:
                raise ListenError(host, port, exc) from exc
            self._sites[(host, port)] = site

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
