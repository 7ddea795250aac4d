"""The summary of an import as lines of text: the same words in the CLI and in the window's dialog."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from aggregator.archive.importers.common import ImportSummary, Skipped

#: At most this many skipped lines and warnings are listed one by one (all are counted) without ``-v``.
LISTED = 50


def _reasons(items: list[Skipped]) -> str:
    counts = Counter(s.reason.split(" (", 1)[0].split(":", 1)[0] for s in items)
    return "; ".join(f"{n} {reason}" for reason, n in counts.most_common())


def summary_lines(summary: ImportSummary, title: str, directory: Path, *, verbose: bool = False) -> list[str]:
    lines = [
        f"imported {title} logs from {directory}: {summary.files} files, {summary.inserted} new messages "
        f"({summary.duplicates} already in the archive), {len(summary.conversations)} conversations"
    ]
    if summary.status_lines:
        lines.append(f"status lines among them (signed on/off, away, ...): {summary.status_lines}")
    if summary.corrected:
        lines.append(f"marked as yours: {summary.corrected} messages of an earlier import of these logs")
    if summary.own_names:
        named = ", ".join(f"{name} ({why})" for name, why in sorted(summary.own_names.items()))
        lines.append(f"taken as yours: {named}")
    if summary.joined_contacts:
        joined = ", ".join(sorted(contact for _name, contact in summary.joined_contacts))
        lines.append(f"joined to existing contacts: {joined}")
    if summary.accounts_created:
        lines.append(
            "archive-only accounts created (history only, not in accounts.json): " + ", ".join(summary.accounts_created)
        )
    for how, files in sorted(summary.encodings.items()):
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        lines.append(f"decoded as {how}: {shown}")
    if summary.skipped_files:
        lines.append(f"skipped {len(summary.skipped_files)} files:")
        lines.extend(f"  {s}" for s in summary.skipped_files)
    for heading, items in (("skipped", summary.skipped_lines), ("warnings for", summary.warnings)):
        if not items:
            continue
        lines.append(f"{heading} {len(items)} lines: {_reasons(items)}")
        listed = items if verbose else items[:LISTED]
        lines.extend(f"  {s}" for s in listed)
        if len(items) > len(listed):
            lines.append(f"  ... and {len(items) - len(listed)} more (-v lists them all)")
    if verbose and summary.per_file:
        lines.append("per file:")
        for f in summary.per_file:
            extra = f", {f.skipped} skipped" if f.skipped else ""
            extra += f", {f.warnings} warnings" if f.warnings else ""
            lines.append(f"  {f.path}: {f.messages} messages{extra} ({f.encoding})")
    return lines
