"""Benchmarks: `python -m bench` (or `make bench`) measures RepCoach against baselines
measured in the same run and writes docs/benchmarks.md; `python -m bench --quick` runs every
part at tiny sizes in seconds (tests/test_bench_smoke.py).

Parts (each a module here):

* `telegram_e2e`  the real Telegram adapter against the loopback fake Bot API, against a bare
                  python-telegram-bot baseline that replays the same Bot API calls;
* `engine_cost`   `Engine.handle_sync` per turn kind on an empty and a full store
                  (SQLite and PostgreSQL), seeded by `seed`;
* `wecom_cb`      200 concurrent encrypted WeCom callbacks against `repcoach run`, against a
                  bare aiohttp server;
* `startup`       `repcoach run` to first reply, playbook load, resident memory.
"""
