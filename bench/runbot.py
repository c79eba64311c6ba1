"""`python -m bench.runbot ARGS...`: `repcoach ARGS...` with the Telegram rate limiter removed.

Only for the memory benchmark, which drives 10,000 reps through one bot process: with the
shipped `AIORateLimiter` (30 calls/s) that alone would take over five minutes. Everything
else is `repcoach run` as shipped.
"""

from __future__ import annotations

import sys

import bot.telegram as adapter
from bench.tgbot import no_rate_limiter, replace_attribute
from bot.__main__ import main

if __name__ == "__main__":
    replace_attribute(adapter, "AIORateLimiter", no_rate_limiter)
    sys.exit(main(sys.argv[1:]))
