"""The `repcoach` command: chat | run | check | test | schema | docs | enroll | revoke | ae |
db upgrade.

This is the only place that exits the process: library code raises, and here each error
becomes one clear line and an exit status an admin's script can test.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.admin_errors import describe
from bot.config import AppConfig, ConfigError, load_config, render_url
from bot.logsafe import protect_logs
from coach.crm import RepNotFound
from coach.engine import Engine
from coach.library import Library, PlaybookErrors, check_directory, load_library
from coach.store.database import Database, SchemaOutdated
from coach.store.migrate import upgrade

DEFAULT_CONFIG = Path("config.yaml")
EXIT_PROBLEM = 1
EXIT_USAGE = 2


PREVIEW_ROWS = 5  # rows an import preview prints


def _config(args: argparse.Namespace) -> AppConfig:
    """The config file (or defaults), kept on `args` so an error later can name its
    database. `repcoach run --port` moves the webhook channels to that port."""
    path: Path | None = args.config
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    config = load_config(path)
    port: int | None = getattr(args, "port", None)
    if port is not None:
        config.channels.telegram.port = config.channels.wecom.port = port
    args.loaded_config = config
    return config


def open_database(config: AppConfig) -> Database:
    """The configured database, refused unless `repcoach db upgrade` brought it up to date."""
    database = Database(config.database.url, config.database.pool_size)
    database.require_current_schema()
    return database


def _library(config: AppConfig) -> Library:
    return load_library(config.playbook_dir, verdicts=config.validation_cache())


def build_engine(config: AppConfig, *, serve_documents: bool = False) -> Engine:
    """Playbooks validated, schema current, engine ready; raises on any of these. With
    `serve_documents` (`repcoach run`) and `documents.enabled`, documents go out as links."""
    from bot.runner import document_shelf

    library = _library(config)
    database = open_database(config)
    return Engine(database, library, config.engine_settings(),
                  documents=document_shelf(config) if serve_documents else None)


def cmd_check(args: argparse.Namespace) -> int:
    directory = Path(args.dir) if args.dir else _config(args).playbook_dir
    issues = check_directory(directory)
    for issue in issues:
        print(issue)
    if issues:
        print(f"{len(issues)} problem(s) in {directory}", file=sys.stderr)
        return EXIT_PROBLEM
    print(f"ok: {directory}")
    return 0


#: the shipped transcripts, found from the installed code (the checkout's tests/transcripts),
#: so `repcoach test --playbooks DIR` runs them from any folder; `tests/transcripts` in the
#: current folder where the install does not carry them
SHIPPED_TRANSCRIPTS = Path(__file__).resolve().parent.parent / "tests" / "transcripts"
DEFAULT_TRANSCRIPTS = (SHIPPED_TRANSCRIPTS if SHIPPED_TRANSCRIPTS.is_dir()
                       else Path("tests") / "transcripts")


def cmd_test(args: argparse.Namespace) -> int:
    """`repcoach test [DIR]`: conversation transcripts against the playbooks, each in a
    throwaway database; every failed step printed with what was expected and what came."""
    from testkit.suite import run_suite

    if args.dir and not args.playbooks and _holds_playbooks(Path(args.dir)):
        # `repcoach check DIR` takes the playbooks; an author naturally types the same here
        print(f"{args.dir} holds playbooks, not transcripts: running the shipped transcripts "
              f"against them (the same as --playbooks {args.dir})")
        args.playbooks, args.dir = args.dir, None
    playbooks = Path(args.playbooks) if args.playbooks else _config(args).playbook_dir
    try:
        library = load_library(playbooks)
    except PlaybookErrors as exc:
        for issue in exc.issues:
            print(issue)
        print(f"cannot test: {len(exc.issues)} playbook problem(s) in {playbooks}",
              file=sys.stderr)
        return EXIT_PROBLEM
    directory = Path(args.dir) if args.dir else DEFAULT_TRANSCRIPTS
    result = run_suite(directory, library, all_channels=args.all_channels,
                       progress=(lambda line: None) if args.quiet else print,
                       playbook_dir=playbooks,
                       show=print if args.show else None)
    for issue in result.issues:
        print(issue)
    for failure in result.failures:
        print(failure)
    summary = (f"{result.passed} passed, {len(result.failures)} failed, "
               f"{len(result.issues)} transcript problem(s) in {directory}")
    print(summary if result.passed or result.failures else summary + " (no transcripts ran)")
    return 0 if result.ok else EXIT_PROBLEM


def _holds_playbooks(directory: Path) -> bool:
    """Whether `directory` is a folder of playbooks (files with `steps:`) and no transcripts
    (files with `script:`)."""
    if not directory.is_dir():
        return False
    texts = [f.read_text(encoding="utf-8", errors="replace")
             for f in sorted(directory.glob("*.yaml"))]
    steps = any(re.search(r"^steps:", t, re.MULTILINE) for t in texts)
    return steps and not any(re.search(r"^script:", t, re.MULTILINE) for t in texts)


MODELINE_HELP = "# yaml-language-server: $schema="


def cmd_schema(args: argparse.Namespace) -> int:
    """`repcoach schema [DIR...]`: regenerate the JSON Schemas from the models and point every
    playbook and transcript in DIR at its schema; with --check, only say what is out of date."""
    from bot import schemas

    folders = [Path(d) for d in args.dirs] or [
        d for d in (_config(args).playbook_dir, DEFAULT_TRANSCRIPTS) if d.is_dir()]
    files = [f for folder in folders for f in sorted(folder.glob("*.yaml"))]
    if args.check:
        stale = [str(schemas.SCHEMA_DIR / name) for name in schemas.stale()]
        unmarked = [str(f) for f in files if not schemas.has_modeline(f)]
        for path in stale:
            print(f"{path}: out of date")
        for path in unmarked:
            print(f"{path}:1: no '{schemas.MODELINE}...' line")
        if stale or unmarked:
            print("run `repcoach schema` to bring them up to date", file=sys.stderr)
            return EXIT_PROBLEM
        print("schemas are up to date")
        return 0
    if not args.dirs or any(schemas.inside_install(folder) for folder in folders):
        for name in schemas.write():  # an author's folder never rewrites the installed ones
            print(f"wrote {schemas.SCHEMA_DIR / name}")
    for file in files:
        if schemas.add_modeline(file):
            print(f"pointed {file} at its schema")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    """`repcoach docs`: rewrite the generated reference in docs/playbooks.md (every action,
    every required message) from the code; with --check, exit 1 when it is stale."""
    from bot import docgen

    if args.check:
        if docgen.is_current():
            print(f"{docgen.GUIDE} is up to date")
            return 0
        print(f"{docgen.GUIDE}: out of date; run `repcoach docs`", file=sys.stderr)
        return EXIT_PROBLEM
    changed = docgen.write()
    print(f"{'rewrote' if changed else 'unchanged:'} {docgen.GUIDE}")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Migrate, and say what was done: from which revision to which, or nothing."""
    config = _config(args)
    where = render_url(config.database.url)
    before = _revision(config.database.url)
    upgrade(config.database.url)
    after = _revision(config.database.url)
    if before == after:
        print(f"{where}: already at {after}; nothing to do")
    else:
        print(f"{where}: upgraded from {before or '(empty)'} to {after}")
    return 0


def _revision(url: str) -> str | None:
    """The schema revision of the database at `url` (None: empty), on a connection of its
    own."""
    from coach.store.database import create_db_engine
    from coach.store.migrate import current_revision

    engine = create_db_engine(url, pool_size=1)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def cmd_enroll(args: argparse.Namespace) -> int:
    config = _config(args)
    engine = build_engine(config)
    if args.csv is not None:
        return _enroll_csv(engine, args.csv)
    if not args.name:
        print("error: --name is required (or --csv FILE)", file=sys.stderr)
        return EXIT_USAGE
    role = "manager" if args.manager_of else "rep"
    team = args.manager_of or args.team
    code = engine.enroll(args.name, role=role, team=team, wecom_user=args.wecom_user)
    days = config.coach.enroll_code_days
    print(f"enrolled {args.name} ({role}{', team ' + team if team else ''}).")
    if args.wecom_user:
        print(f"WeCom user {args.wecom_user} is bound: they can write to the WeCom app now; "
              "no code needed.")
        print(f"Only to add another chat account (e.g. Telegram): they send /start {code} "
              f"to the bot there within {days} days (the code works once).")
        return 0
    print(f"Send /start CODE to the bot within {days} days; the code works once.")
    print(code)
    return 0


def _enroll_csv(engine: Engine, path: Path) -> int:
    """Bulk set-up: a CSV with columns name, wecom_user, team, manager_of (UTF-8, a header
    row). Every row is checked first; nothing is enrolled when any row is wrong."""
    import csv

    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    problems, seen = [], set()
    for number, row in enumerate(rows, start=2):
        name, user = (row.get("name") or "").strip(), (row.get("wecom_user") or "").strip()
        if not name or not user:
            problems.append(f"{path}:{number}: name and wecom_user are required")
        elif user in seen:
            problems.append(f"{path}:{number}: wecom_user {user} appears twice")
        elif (row.get("team") or "").strip() and (row.get("manager_of") or "").strip():
            problems.append(f"{path}:{number}: give team or manager_of, not both")
        seen.add(user)
    if problems or not rows:
        for problem in problems or [f"{path}: no rows"]:
            print(problem, file=sys.stderr)
        print("nothing enrolled", file=sys.stderr)
        return EXIT_PROBLEM
    for row in rows:
        manager_of = (row.get("manager_of") or "").strip()
        engine.enroll(row["name"].strip(), role="manager" if manager_of else "rep",
                      team=manager_of or (row.get("team") or "").strip() or None,
                      wecom_user=row["wecom_user"].strip())
    print(f"enrolled {len(rows)} people, each bound to their WeCom user")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    engine = build_engine(_config(args))
    try:
        for line in engine.revoke(name=args.name, rep_id=args.id):
            print(f"revoked {line}: their chat identities no longer work; data kept")
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    return 0


def cmd_ae(args: argparse.Namespace) -> int:
    """The safety team's commands: list, export, and mark forwarded adverse-event reports."""
    from datetime import UTC, datetime

    from coach.store.safety import as_csv, as_json, mark_forwarded, safety_reports

    config = _config(args)
    database = open_database(config)
    now = datetime.now(UTC).replace(tzinfo=None)
    with database.transaction() as session:
        if args.ae_command == "forward":
            done = mark_forwarded(session, args.ids, now, args.by)
            for event_id in done:
                print(f"adverse event {event_id} marked forwarded")
            missing = sorted(set(args.ids) - set(done))
            if missing:
                print(f"error: not open or not found: {', '.join(map(str, missing))}",
                      file=sys.stderr)
                return EXIT_PROBLEM
            return 0
        reports = safety_reports(session, now, include_forwarded=args.all, team=args.team)
    if args.ae_command == "export":
        data = as_json(reports) if args.format == "json" else as_csv(reports)
        if args.out is None:
            sys.stdout.buffer.write(data)
        else:
            args.out.write_bytes(data)
            print(f"{len(reports)} report(s) written to {args.out}")
        return 0
    if not reports:
        print("no open adverse-event reports" if not args.all else "no adverse-event reports")
    for r in reports:
        flag = "OVERDUE " if r.overdue else ""
        print(f"#{r.id} {flag}{r.kind} · {r.status} · day 0 {r.day0} · deadline {r.deadline} · "
              f"{r.rep}{' (' + r.team + ')' if r.team else ''} · {r.customer or '-'}")
        print(f"    {r.report or r.phrase}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """`repcoach import accounts FILE --rep WHO`: preview, then (with --yes) import."""
    from datetime import UTC, datetime

    from coach.crm import TableError, find_rep, plan_import, read_table, run_import

    overrides = {}
    for item in args.map or []:
        key, sep, column = item.partition("=")
        if not sep:
            print(f"error: --map {item}: write FIELD=COLUMN, e.g. --map name=客户姓名",
                  file=sys.stderr)
            return EXIT_USAGE
        overrides[key.strip()] = column
    config = _config(args)
    database = open_database(config)
    try:
        table = read_table(args.file)
    except (OSError, TableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    with database.transaction() as session:
        rep = find_rep(session, args.rep)
        plan = plan_import(session, rep, table, args.file.name, overrides,
                           _library(config).guard)
        print(f"importing into {rep.name} (id {rep.id}) from {args.file.name}")
        for key, column in plan.columns.items():
            print(f"  {key:<10} <- {column}")
        for record in plan.create[:PREVIEW_ROWS]:
            print("  + " + " · ".join(str(record.get(k) or "-") for k in plan.columns))
        if len(plan.create) > PREVIEW_ROWS:
            print(f"  … and {len(plan.create) - PREVIEW_ROWS} more")
        if plan.existing:
            rows = ", ".join(map(str, plan.existing[:20]))
            print(f"  already there, left as they are: rows {rows}"
                  f"{' …' if len(plan.existing) > 20 else ''}")
        if plan.problems:
            for problem in plan.problems:
                print(problem, file=sys.stderr)
            print(f"nothing imported: fix the {len(plan.problems)} problem(s) above and run "
                  "again", file=sys.stderr)
            return EXIT_PROBLEM
        if not args.yes:
            print(f"preview only: run again with --yes to import {len(plan.create)} "
                  "account(s)")
            return 0
        done = run_import(session, rep, plan, datetime.now(UTC).replace(tzinfo=None))
    print(f"imported {done} account(s); {len(plan.existing)} already there")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """`repcoach export --rep WHO --out DIR`: accounts, visits and stages, CSV and XLSX."""
    from coach.crm import export_tables, find_rep, write_csv, write_xlsx

    config = _config(args)
    database = open_database(config)
    with database.transaction() as session:
        rep = find_rep(session, args.rep)
        tables = export_tables(session, rep, _library(config), config.coach.utc_offset_hours)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        write_csv(args.out / f"{name}.csv", rows)
    write_xlsx(args.out / "repcoach-export.xlsx", tables)
    counts = ", ".join(f"{len(rows) - 1} {name}" for name, rows in tables.items())
    print(f"{rep.name}: {counts} written to {args.out} (CSV and repcoach-export.xlsx)")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.console import ConsoleChannel

    config = _config(args)
    if args.upgrade:
        upgrade(config.database.url)
    engine = build_engine(config)
    ConsoleChannel(engine, user=args.user, with_ids=args.with_ids).run()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.runner import run_channels

    config = _config(args)
    protect_logs(config.secrets())
    engine = build_engine(config, serve_documents=True)
    return asyncio.run(run_channels(config, engine))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="repcoach", description="Coaching assistant for reps.")
    top.add_argument("--config", type=Path, default=None,
                     help="config file (default: ./config.yaml when present)")
    top.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = top.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="chat in this terminal (console channel)")
    chat.add_argument("--user", default=None, help="console identity (default: your login)")
    chat.add_argument("--with-ids", action="store_true",
                      help="read ID<TAB>TEXT lines: replayable scripts, resent lines are ignored")
    chat.add_argument("--upgrade", action="store_true",
                      help="bring the database schema up to date first")
    chat.add_argument("--log-file", type=Path, default=Path("repcoach-chat.log"),
                      help="where warnings go while you chat, so they never land between "
                           "the bot's lines (with -v: to the terminal instead)")
    chat.set_defaults(func=cmd_chat)

    run = sub.add_parser("run", help="start every channel enabled in the config")
    run.add_argument("--port", type=int, default=None,
                     help="listen on this port for WeCom callbacks and Telegram webhooks "
                          "(instead of channels.*.port), so several workers on one host can "
                          "share one config.yaml; the worker's name includes it")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="validate playbooks; non-zero exit on any problem")
    check.add_argument("dir", nargs="?", default=None)
    check.set_defaults(func=cmd_check)

    test = sub.add_parser("test", help="run conversation transcripts against the playbooks; "
                                       "non-zero exit on any failed step")
    test.add_argument("dir", nargs="?", default=None,
                      help="a transcript or a folder of them (default: the shipped ones, "
                           f"{DEFAULT_TRANSCRIPTS}, from any folder)")
    test.add_argument("--playbooks", default=None,
                      help="playbook folder (default: the config's playbooks.dir)")
    test.add_argument("--all-channels", action="store_true",
                      help="also run each transcript through the channels it lists "
                           "(console, and Telegram and WeCom on loopback fakes)")
    test.add_argument("-q", "--quiet", action="store_true", help="print failures only")
    test.add_argument("-v", "--show", action="store_true",
                      help="print every step with the bot's actual reply and buttons, passing "
                           "or not, to see a whole conversation")
    test.set_defaults(func=cmd_test)

    schema = sub.add_parser(
        "schema", help="regenerate the JSON Schemas editors use and point each playbook and "
                       "transcript at its schema",
        description="Without DIR: regenerate the installed JSON Schemas and point the shipped "
                    "playbooks and transcripts at them. With DIR (your copy of the playbooks "
                    "or transcripts, anywhere): rewrite each file's first line "
                    f"('{MODELINE_HELP}...') to the installed schema's absolute path, so your "
                    "editor finds it after copying; the installed package is not changed.")
    schema.add_argument("dirs", nargs="*",
                        help="folders of YAML files to point at their schema (default: the "
                             f"playbooks and {DEFAULT_TRANSCRIPTS})")
    schema.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a schema or a file is out of date")
    schema.set_defaults(func=cmd_schema)

    docs = sub.add_parser("docs", help="for RepCoach's developers: regenerate the action and "
                                       "message reference in docs/playbooks.md from the code "
                                       "(it is the same for every copy of the playbooks; "
                                       "authors read it, they need not run this)")
    docs.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 when the guide is out of date")
    docs.set_defaults(func=cmd_docs)

    enroll = sub.add_parser("enroll", help="create a rep and print a one-time code")
    enroll.add_argument("--name", default=None)
    enroll.add_argument("--wecom-user", default=None,
                        help="bind this WeCom UserID now (case-sensitive): no code needed")
    enroll.add_argument("--csv", type=Path, default=None,
                        help="bulk: a CSV with name,wecom_user,team,manager_of")
    group = enroll.add_mutually_exclusive_group()
    group.add_argument("--team", default=None, help="the rep's team")
    group.add_argument("--manager-of", default=None, help="enroll a manager of TEAM")
    enroll.set_defaults(func=cmd_enroll)

    revoke = sub.add_parser("revoke", help="take a rep's access away (data is kept)")
    who = revoke.add_mutually_exclusive_group(required=True)
    who.add_argument("--name", default=None)
    who.add_argument("--id", type=int, default=None)
    revoke.set_defaults(func=cmd_revoke)

    ae = sub.add_parser("ae", help="adverse-event reports, for the safety team")
    ae_sub = ae.add_subparsers(dest="ae_command", required=True)
    for name, text in (("list", "open reports, oldest deadline first"),
                       ("export", "reports as CSV (Excel) or JSON")):
        command = ae_sub.add_parser(name, help=text)
        command.add_argument("--all", action="store_true", help="forwarded ones too")
        command.add_argument("--team", default=None, help="only this team's reps")
        if name == "export":
            command.add_argument("--format", choices=("csv", "json"), default="csv")
            command.add_argument("--out", type=Path, default=None,
                                 help="file to write (default: standard output)")
        command.set_defaults(func=cmd_ae)
    forward = ae_sub.add_parser("forward", help="mark reports forwarded to pharmacovigilance")
    forward.add_argument("ids", type=int, nargs="+")
    forward.add_argument("--by", default=getpass.getuser(),
                         help="who forwarded them (default: your login), kept on the record")
    forward.set_defaults(func=cmd_ae)

    imports = sub.add_parser("import", help="import a CRM export (CSV or XLSX)")
    import_sub = imports.add_subparsers(dest="import_command", required=True)
    accounts = import_sub.add_parser("accounts", help="a rep's customers: name, hospital, "
                                     "department, title, tier; nothing imported if any row "
                                     "is wrong")
    accounts.add_argument("file", type=Path)
    accounts.add_argument("--rep", required=True, help="the rep's id, or name if unique")
    accounts.add_argument("--map", action="append", metavar="FIELD=COLUMN",
                          help="take FIELD (name, hospital, department, title, tier) from "
                               "COLUMN when its header is not recognised")
    accounts.add_argument("--yes", action="store_true", help="import; without it, preview only")
    accounts.set_defaults(func=cmd_import)

    export = sub.add_parser("export", help="a rep's accounts, visits and stage history as "
                                           "CSV and XLSX, for the company's CRM")
    export.add_argument("--rep", required=True, help="the rep's id, or name if unique")
    export.add_argument("--out", type=Path, required=True, help="folder to write into")
    export.set_defaults(func=cmd_export)

    db = sub.add_parser("db", help="database administration")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_sub.add_parser("upgrade", help="migrate the schema, keeping all data")
    db_upgrade.set_defaults(func=cmd_db_upgrade)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quiet_chat = args.command == "chat" and not args.verbose
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        filename=args.log_file if quiet_chat else None)
    protect_logs()  # token patterns now; the configured secrets once the config is read
    try:
        result: int = args.func(args)
        return result
    except PlaybookErrors as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"error: refusing to start: {len(exc.issues)} playbook problem(s), each on a "
              "line above (file:line: what is wrong)", file=sys.stderr)
        return EXIT_PROBLEM
    except (ConfigError, SchemaOutdated, RepNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _traced(args, exc)
    except SQLAlchemyError as exc:  # the database could not be opened or used
        config: AppConfig | None = getattr(args, "loaded_config", None)
        print(f"error: {describe(exc, config.database.url if config else None)}",
              file=sys.stderr)
        return _traced(args, exc)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `repcoach ae list | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except OSError as exc:  # a folder or file it cannot create, read or write
        print(f"error: {exc}", file=sys.stderr)
        return _traced(args, exc)


def _traced(args: argparse.Namespace, exc: BaseException) -> int:
    """EXIT_PROBLEM; with -v the traceback follows the one-line error, for a developer."""
    if args.verbose:
        traceback.print_exception(exc, file=sys.stderr)
    return EXIT_PROBLEM


if __name__ == "__main__":
    sys.exit(main())
