"""A round-robin load balancer on 127.0.0.1, in front of several `repcoach run` workers.

Each request goes to the next worker in turn, so one rep's messages land on different
workers. A worker that refuses the connection or drops it mid-request (killed) is skipped
and the request goes to the next one, as a balancer with health checks does; the platform
sees an error only when no worker answers.
"""

from __future__ import annotations

import itertools
from types import TracebackType

import aiohttp
from aiohttp import hdrs, web

__all__ = ["RoundRobin"]

#: Headers that belong to one hop, not to the request.
_HOP = {hdrs.HOST, hdrs.CONTENT_LENGTH, hdrs.TRANSFER_ENCODING, hdrs.CONNECTION}


class RoundRobin:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.forwarded: list[str] = []  # the backend each request was answered by
        self._next = itertools.cycle(range(len(backends)))
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def __aenter__(self) -> RoundRobin:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._session = aiohttp.ClientSession()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k not in _HOP}
        for _ in self.backends:
            backend = self.backends[next(self._next)]
            try:
                async with self._session.request(
                        request.method, backend + request.path_qs, data=body, headers=headers,
                        timeout=aiohttp.ClientTimeout(total=10)) as response:
                    answer = await response.read()
                    self.forwarded.append(backend)
                    return web.Response(status=response.status, body=answer,
                                        content_type=response.content_type)
            except aiohttp.ClientConnectionError:
                continue  # down (or killed while answering): the next worker takes it
        return web.Response(status=502, text="no worker answered")
