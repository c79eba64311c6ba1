"""The WeCom baseline server: `python -m bench.wecom_bare --port P --path /wecom/callback`.

RepCoach's own `bot.server.WebhookServer` (same aiohttp application, same body limit), with
one route on the callback path that answers an empty 200 and does nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from bot.server import WebhookServer


async def _empty(_request: web.Request) -> web.Response:
    return web.Response(text="")


async def _serve(port: int, path: str) -> None:
    server = WebhookServer()
    server.app.router.add_post(path, _empty)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    await server.start([("127.0.0.1", port)])
    print("ready", flush=True)
    await stopping.wait()
    await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wecom_bare")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/wecom/callback")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.port, args.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
