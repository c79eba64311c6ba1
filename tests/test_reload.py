"""`repcoach run` reloads its playbooks on SIGHUP, in a real process serving WeCom: a changed
text reaches the rep's next turn without a restart; a broken set is refused with the same
`file:line: code: message` list as `repcoach check`, in the log, and the bot keeps running
the set it had."""

from __future__ import annotations

import asyncio
import shutil
import signal
from pathlib import Path

from testkit.fakes.wecom_sim import WecomSimulator
from testkit.wecom_support import Rep, free_port, shown
from tests.test_wecom_e2e_process import (
    ROOT,
    environment,
    repcoach_command,
    stop,
    wait_for_line,
    write_config,
)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


async def test_sighup_reloads_good_playbooks_and_refuses_a_broken_set(
        tmp_path: Path, sqlite_template: Path) -> None:
    database = tmp_path / "repcoach.sqlite3"
    shutil.copy(sqlite_template, database)
    playbooks = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", playbooks)
    port = free_port()
    config = tmp_path / "config.yaml"
    write_config(config, database, port)
    edit(config, f"dir: {ROOT / 'playbooks'}", f"dir: {playbooks}")
    menu = playbooks / "menu.yaml"
    async with WecomSimulator() as sim:
        process = await asyncio.create_subprocess_exec(
            *repcoach_command(), "--config", str(config), "run", cwd=tmp_path,
            env=environment(sim), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            assert process.stdout is not None and process.stderr is not None
            await wait_for_line(process.stdout, "running:")
            sim.callback_url = f"http://127.0.0.1:{port}/wecom/callback"
            rep = Rep(sim, "zhangwei")

            async def menu_now() -> str:
                got = await rep.say("/menu", until=lambda got: len(got) >= 1)
                return "\n".join(shown(m) for m in got)

            opened = await rep.open(until=lambda got: len(got) >= 2)  # welcome, then the menu
            assert "想做什么？" in shown(opened[1])

            # the training manager rewords the menu and signals the running bot
            edit(menu, "想做什么？", "今天想先做哪件事？")
            process.send_signal(signal.SIGHUP)
            assert "playbooks reloaded:" in await wait_for_line(process.stdout, "playbooks ")
            assert "今天想先做哪件事？" in await menu_now()

            # then breaks it: the reload is refused, the log names the line, the menu stays
            edit(menu, "今天想先做哪件事？", "今天想先做哪件事？{{ rpe }}")
            process.send_signal(signal.SIGHUP)
            assert "playbooks not reloaded: 1 problem(s)" in await wait_for_line(
                process.stdout, "playbooks ")
            logged = await wait_for_line(process.stderr, "still running the previous set")
            assert "menu.yaml:12: unknown-variable: template uses 'rpe'" in logged
            shown_now = await menu_now()
            assert "今天想先做哪件事？" in shown_now and "rpe" not in shown_now

            # a misspelt field in a tactic's why (content, read only by /next): refused too
            edit(menu, "今天想先做哪件事？{{ rpe }}", "今天想先做哪件事？")
            edit(playbooks / "next.yaml", '"{{ account.name }}在{{ stage_name }}阶段{%',
                 '"{{ account.nmae }}在{{ stage_name }}阶段{%')
            process.send_signal(signal.SIGHUP)
            assert "playbooks not reloaded: 1 problem(s)" in await wait_for_line(
                process.stdout, "playbooks ")
            logged = await wait_for_line(process.stderr, "still running the previous set")
            line = next(number for number, text in enumerate(
                (playbooks / "next.yaml").read_text(encoding="utf-8").splitlines(), start=1)
                if "account.nmae" in text)
            assert f"next.yaml:{line}: unknown-field: template uses account.nmae" in logged
            assert process.returncode is None  # still serving
        finally:
            stderr = await stop(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
