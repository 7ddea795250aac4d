"""``aggregator stats``: how many messages the archive holds, per account, sphere and year."""

from __future__ import annotations

import argparse
import json

from aggregator.app.offline.archive_reads import ArchiveStats
from aggregator.app.offline.archive_reads import stats as offline_stats
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.cli.database import profile
from aggregator.cli.output import out, out_exact


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("stats", help="count the archived messages per account, sphere and year")
    cmd.add_argument("--json", action="store_true", help="one JSON object")
    cmd.set_defaults(func=cmd_stats)


def cmd_stats(args: argparse.Namespace, paths: ProfilePaths, _registry: ProtocolRegistry) -> int:
    stats = offline_stats(profile(args, paths))
    if args.json:
        out_exact(json.dumps(stats_json(stats), ensure_ascii=False))
        return 0
    out(f"messages: {stats.total:,}")
    for title, rows in (("per account", stats.per_account), ("per sphere", stats.per_sphere)):
        out(f"{title}:")
        for name, n in rows:
            out(f"  {name:<40} {n:>12,}")
    out("per year:")
    for year, n in stats.per_year:
        out(f"  {year:<40} {n:>12,}")
    return 0


def stats_json(stats: ArchiveStats) -> dict[str, object]:
    return {
        "total": stats.total,
        "accounts": dict(stats.per_account),
        "spheres": dict(stats.per_sphere),
        "years": {str(y): n for y, n in stats.per_year},
    }
