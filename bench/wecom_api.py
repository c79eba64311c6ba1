"""The WeCom API for the callback benchmark, in its own process:
`python -m bench.wecom_api --corp-id ... --secret ... --agent-id ... --token ... --aes-key ...`.

In production the WeCom API that takes RepCoach's replies and the WeCom servers that send the
callbacks (and time the 200s) are not the same program. In the benchmark they must not share an
event loop either: when the simulator answered RepCoach's reply calls in the process that fires
the callbacks, every reply RepCoach sent delayed the reading of the next 200, and the measured
ack latency grew with RepCoach's replies instead of with its answers (the bare server, which
sends no replies, was never slowed that way).

Prints `ready API_BASE_URL CONTROL_URL`. The control server answers
`GET /recipients?since=N` with the members that messages N, N+1, ... went to, so the benchmark
can wait until every member of a burst has had a reply, and `GET /wait?user=U&count=N` once
member U has had N messages (the closed loop of bench/scaling.py).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections import Counter
from collections.abc import Sequence

from aiohttp import web

from testkit.fakes.wecom_sim import WecomSimulator


class Counts:
    """Messages per member, counted once as they arrive (a scan of every message per
    question would grow with the run and make the simulator the bottleneck)."""

    def __init__(self, sim: WecomSimulator) -> None:
        self.sim = sim
        self.read = 0
        self.per_user: Counter[str] = Counter()

    def of(self, user: str) -> int:
        for message in self.sim.messages[self.read:]:
            self.per_user[message.touser] += 1
        self.read = len(self.sim.messages)
        return self.per_user[user]


def control_app(sim: WecomSimulator) -> web.Application:
    counts = Counts(sim)

    async def recipients(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return web.json_response({"total": len(sim.messages),
                                  "users": sorted({m.touser for m in sim.messages[since:]})})

    async def wait(request: web.Request) -> web.Response:
        """`GET /wait?user=U&count=N&timeout=S`: answers once U has had N messages, or
        after S seconds, with how many U has had (bench/scaling.py's closed loop)."""
        user, count = request.query["user"], int(request.query["count"])
        await sim.wait_until(lambda: counts.of(user) >= count,
                             float(request.query.get("timeout", "10")))
        return web.json_response({"count": counts.of(user)})

    app = web.Application()
    app.router.add_get("/recipients", recipients)
    app.router.add_get("/wait", wait)
    return app


async def _serve(args: argparse.Namespace) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    async with WecomSimulator(corp_id=args.corp_id, secret=args.secret,
                              agent_id=args.agent_id, token=args.token,
                              encoding_aes_key=args.aes_key) as sim:
        runner = web.AppRunner(control_app(sim), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = int(runner.addresses[0][1])
        print(f"ready {sim.api_base_url} http://127.0.0.1:{port}", flush=True)
        await stopping.wait()
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wecom_api")
    parser.add_argument("--corp-id", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--agent-id", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--aes-key", required=True)
    asyncio.run(_serve(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
