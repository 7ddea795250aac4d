"""``aggregator persons``: the buddy list, merge suggestions, and merge/split/rename/move.

With a running instance the request goes through its control socket (its in-memory roster stays
right); without one, the archive is changed directly.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from aggregator.api import AggregatorError, ConfigurationError
from aggregator.app.accounts import AccountCommands
from aggregator.app.offline import persons as offline_persons
from aggregator.app.offline.persons import UNGROUPED
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out, out_exact
from aggregator.control.client import request


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    persons = sub.add_parser("persons", help="the buddy list: persons across accounts")
    persons.add_argument("--json", action="store_true", help="JSON output")
    persons.set_defaults(func=cmd_persons, request=lambda _a: {"op": "persons"})
    verbs = persons.add_subparsers(dest="verb", metavar="VERB")
    sug = verbs.add_parser("suggestions", help="persons that may be one human, with the reason")
    sug.add_argument("--json", action="store_true", help="JSON output")
    sug.set_defaults(request=lambda _a: {"op": "persons.suggestions"})
    merge = verbs.add_parser("merge", help="merge person B into person A (id or contact address)")
    merge.add_argument("a", metavar="A")
    merge.add_argument("b", metavar="B")
    merge.set_defaults(request=lambda a: {"op": "persons.merge", "into": a.a, "other": a.b})
    reject = verbs.add_parser("reject", help="A and B are different humans: never suggest merging them")
    reject.add_argument("a", metavar="A")
    reject.add_argument("b", metavar="B")
    reject.set_defaults(request=lambda a: {"op": "persons.reject", "person": a.a, "other": a.b})
    split = verbs.add_parser("split", help="make a contact its own person again")
    split.add_argument("contact", metavar="CONTACT", help="the contact's address")
    split.add_argument("--account", metavar="ACCOUNT", help="the contact's account (when on several)")
    split.set_defaults(request=_split_request)
    rename = verbs.add_parser("rename", help="set (or without ALIAS, clear) a person's name")
    rename.add_argument("person", metavar="PERSON")
    rename.add_argument("alias", metavar="ALIAS", nargs="?")
    rename.set_defaults(request=lambda a: {"op": "persons.rename", "person": a.person, "alias": a.alias})
    move = verbs.add_parser("move", help="move a person to the work or personal sphere")
    move.add_argument("person", metavar="PERSON")
    move.add_argument("sphere", choices=["work", "personal"])
    move.set_defaults(request=lambda a: {"op": "persons.move", "person": a.person, "sphere": a.sphere})
    group = verbs.add_parser("group", help="put a person in your own (local) groups")
    group.add_argument("person", metavar="PERSON")
    group.add_argument("groups", metavar="GROUP", nargs="+")
    group.set_defaults(request=lambda a: {"op": "persons.group", "person": a.person, "groups": a.groups})
    ungroup = verbs.add_parser("ungroup", help="take a person out of one of your groups")
    ungroup.add_argument("person", metavar="PERSON")
    ungroup.add_argument("group", metavar="GROUP")
    ungroup.set_defaults(request=lambda a: {"op": "persons.ungroup", "person": a.person, "group": a.group})


def _split_request(args: argparse.Namespace) -> dict[str, Any]:
    account: str | None = None
    if args.account:
        try:
            account = AccountCommands.offline(args.paths).resolve(args.account).id
        except ConfigurationError as exc:
            raise UsageError(str(exc)) from None
    return {"op": "persons.split", "contact": args.contact, "account": account}


def cmd_persons(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    args.paths = paths
    req = args.request(args)
    if InstanceLock(paths.lock_file).is_held_elsewhere():
        reply = request(paths.control_socket, req)
    else:
        reply = offline_persons.run(paths, req)
    if not reply.get("ok"):
        error = str(reply.get("error", "the request was refused"))
        raise UsageError(error) if reply.get("usage") else AggregatorError(error)
    _show(args, reply)
    return 0


def _show(args: argparse.Namespace, reply: dict[str, Any]) -> None:
    as_json = getattr(args, "json", False)
    if "persons" in reply:
        if as_json:
            out_exact(json.dumps(reply["persons"], ensure_ascii=False, indent=2))
            return
        _show_list(reply)
    elif "suggestions" in reply:
        if as_json:
            out_exact(json.dumps(reply["suggestions"], ensure_ascii=False, indent=2))
            return
        for s in reply["suggestions"]:
            out(f"{s['person']} {s['person_name']}  <-  {s['other']} {s['other_name']}:  {s['text']}")
    elif "person" in reply:
        out(_person_line(reply["person"]))
        if "removed" in reply:
            out(f"(person {reply['removed']} was merged into it)")


def _show_list(reply: dict[str, Any]) -> None:
    """Grouped by sphere, then group (local groups first), as the buddy list shows it."""
    by_id = {p["id"]: p for p in reply["persons"]}
    for section in reply.get("list", []):
        out(f"== {section['sphere']} ==")
        for group in section["groups"]:
            server = not group["local"] and group["name"] != UNGROUPED
            out(f"  {group['name']}" + ("  (server roster group)" if server else ""))
            for pid in group["persons"]:
                p = by_id[pid]
                out("  " + _person_line(p))
                for c in p["contacts"]:
                    name = f"  ({c['alias'] or c['name']})" if (c["alias"] or c["name"]) else ""
                    groups = f"  [{', '.join(c['groups'])}]" if c["groups"] else ""
                    trust = _TRUST_MARKS.get(c.get("trust", "none"), "")
                    out(f"        {c['account']}  {c['handle']}{name}  {c['presence']}{groups}{trust}")


#: How a contact's end-to-end encryption device trust is marked in the text output (nothing for "none").
_TRUST_MARKS = {
    "unverified": "  [unverified devices]",
    "partly_verified": "  [unverified devices]",
    "blocked": "  [blocked device]",
    "verified": "  [verified]",
}


def _person_line(p: dict[str, Any]) -> str:
    status = f": {p['status']}" if p["status"] else ""
    unread = f"  {p['unread']} unread" if p["unread"] else ""
    return f"{p['id']:>5}  {p['name']}  [{p['sphere']}]  {p['presence']}{status}{unread}"
