"""The ``aggregator`` command. Exit 0 on success, 1 on a runtime failure, 2 on a usage error."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from aggregator.api import AggregatorError, PolicyError
from aggregator.app.runtime import HOME_ENV, ProfilePaths, ProtocolRegistry
from aggregator.cli import (
    account_cmd,
    contacts_cmd,
    desktop_cmd,
    export_cmd,
    files_cmd,
    gui_cmd,
    history_cmd,
    import_cmd,
    persons_cmd,
    policy_cmd,
    retention_cmd,
    rooms_cmd,
    run_cmd,
    search_cmd,
    send_cmd,
    settings_cmd,
    stats_cmd,
    status_cmd,
    templates_cmd,
)
from aggregator.cli.errors import UsageError
from aggregator.cli.output import OutputClosedError, err, error_text, printable, silence_stdout

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aggregator",
        description="One client for your XMPP, Matrix and IRC accounts, with every conversation logged locally.",
    )
    parser.add_argument("--home", metavar="DIR", help=f"keep this profile's files under DIR (or set {HOME_ENV})")
    parser.add_argument(
        "--database",
        metavar="URL",
        help="keep the archive in this database, e.g. postgresql://user@host/dbname "
        "(default: the database_url setting, else the profile's SQLite file)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui_cmd.add_parser(sub)
    run_cmd.add_parser(sub)
    account_cmd.add_parser(sub)
    send_cmd.add_parser(sub)
    files_cmd.add_parser(sub)
    history_cmd.add_parser(sub)
    contacts_cmd.add_parser(sub)
    persons_cmd.add_parser(sub)
    rooms_cmd.add_parser(sub)
    status_cmd.add_parser(sub)
    search_cmd.add_parser(sub)
    stats_cmd.add_parser(sub)
    import_cmd.add_parser(sub)
    export_cmd.add_parser(sub)
    retention_cmd.add_parser(sub)
    policy_cmd.add_parser(sub)
    templates_cmd.add_parser(sub)
    settings_cmd.add_parser(sub)
    desktop_cmd.add_parser(sub)
    return parser


class _PrintableFormatter(logging.Formatter):
    """Log lines quote remote input (names, bodies, server errors): no control characters on stderr.
    A traceback keeps its line breaks (it is the program's own text)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return "\n".join(printable(line) for line in text.split("\n"))


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("aggregator: %(levelname)s: %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    if verbosity < 2:
        for noisy in ("slixmpp", "nio", "aiohttp", "peewee"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


def policy_refusal(exc: PolicyError) -> str:
    """A policy refusal for the terminal: the reason, the rule, and what to do about a warning."""
    from aggregator.app.types import ConfirmationRequiredError

    text = f"refused by the organisation's policy: {error_text(exc)}" + (f" [rule {exc.rule}]" if exc.rule else "")
    if isinstance(exc, ConfirmationRequiredError):
        text += "; add --confirm to send it anyway"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if args.command is None:
        args.func = gui_cmd.cmd_gui
        args.minimized, args.link = False, None
    paths = ProfilePaths.resolve(args.home)
    registry = ProtocolRegistry.discover()
    try:
        return int(args.func(args, paths, registry))
    except OutputClosedError:
        # The reader stopped reading (``| head``): nothing is wrong, and nothing more is said.
        silence_stdout()
        return 141
    except UsageError as exc:
        err(f"aggregator: error: {error_text(exc)}")
        return 2
    except PolicyError as exc:
        err(f"aggregator: error: {policy_refusal(exc)}")
        return 1
    except AggregatorError as exc:
        err(f"aggregator: error: {error_text(exc)}")
        return 1
    except KeyboardInterrupt:
        err("aggregator: interrupted")
        return 130
    except OSError as exc:
        err(f"aggregator: error: {error_text(exc)}")
        return 1
