"""``aggregator templates list | add NAME TEXT | remove NAME``: the user's message templates.

The organisation's templates (from the policy) are listed too, marked as such; they cannot be changed.
"""

from __future__ import annotations

import argparse
import json

from aggregator.app.offline.templates import TemplateStore, templates
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.app.types import TemplateSource
from aggregator.cli.output import out, out_exact, out_message, warn


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("templates", help="named standard replies: list, add, remove")
    acts = cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = acts.add_parser("list", help="every template; the organisation's are marked")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=cmd_list)
    add = acts.add_parser("add", help="add (or replace) one of your templates")
    add.add_argument("name", metavar="NAME")
    add.add_argument("text", metavar="TEXT")
    add.set_defaults(func=cmd_add)
    remove = acts.add_parser("remove", help="remove one of your templates")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=cmd_remove)


def _store(paths: ProfilePaths) -> TemplateStore:
    found = templates(paths)
    if found.policy_error:
        warn(f"the policy file is unusable, its templates are not shown: {found.policy_error}")
    return found.store


def cmd_list(args: argparse.Namespace, paths: ProfilePaths, _registry: ProtocolRegistry) -> int:
    templates = _store(paths).all()
    if args.json:
        for t in templates:
            out_exact(json.dumps({"name": t.name, "text": t.text, "source": t.source.value}, ensure_ascii=False))
        return 0
    if not templates:
        out("No templates yet; add one with: aggregator templates add NAME TEXT")
    for t in templates:
        mark = " (organisation)" if t.source is TemplateSource.ORGANISATION else ""
        out_message(f"{t.name}{mark}: ", t.text)
    return 0


def cmd_add(args: argparse.Namespace, paths: ProfilePaths, _registry: ProtocolRegistry) -> int:
    paths.ensure()
    template = _store(paths).add(args.name, args.text)
    out(f"Template {template.name!r} saved.")
    return 0


def cmd_remove(args: argparse.Namespace, paths: ProfilePaths, _registry: ProtocolRegistry) -> int:
    _store(paths).remove(args.name)
    out(f"Template {args.name.strip()!r} removed.")
    return 0
