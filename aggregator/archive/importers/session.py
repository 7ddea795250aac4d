"""One history import as the window runs it on the engine loop: the plan, the progress, the summary.

The CLI reads the same plans (``formats.plan``) and prints the same summary (``report.summary_lines``);
here the import advances a few files at a time (``runner.import_chunked``) so that the engine's
adapters keep running, and ``on_progress`` reports counts and rate after each file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from aggregator.archive.importers.common import ImportSummary, ReadOptions
from aggregator.archive.importers.formats import plan
from aggregator.archive.importers.report import summary_lines
from aggregator.archive.importers.runner import AccountMapper, KnownAccount, Normalizer, import_chunked
from aggregator.archive.store import Archive


@dataclass(frozen=True, slots=True)
class ImportProgress:
    title: str  #: the format being read: "Pidgin"
    files_done: int
    files_total: int
    messages: int
    per_second: float

    def text(self) -> str:
        return (
            f"{self.title}: {self.files_done:,}/{self.files_total:,} files, "
            f"{self.messages:,} messages ({self.per_second:,.0f}/s)"
        )


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    title: str
    summary: ImportSummary
    lines: tuple[str, ...]  #: the summary as the CLI prints it


class _Counter:
    def __init__(self, title: str, total: int, on_progress: Callable[[ImportProgress], None] | None) -> None:
        self._title, self._total, self._on_progress = title, total, on_progress
        self._began = time.monotonic()
        self.files = self.messages = 0

    def file_done(self) -> None:
        self.files += 1
        if self._on_progress is not None:
            elapsed = max(time.monotonic() - self._began, 1e-6)
            self._on_progress(
                ImportProgress(self._title, self.files, self._total, self.messages, self.messages / elapsed)
            )

    def messages_read(self, n: int) -> None:
        self.messages += n


async def import_history(
    archive: Archive,
    configured: Iterable[KnownAccount],
    directory: Path,
    format_name: str,
    options: ReadOptions,
    *,
    normalize: Normalizer | None = None,
    on_progress: Callable[[ImportProgress], None] | None = None,
    verbose: bool = False,
) -> list[ImportOutcome]:
    """Import ``directory`` (``format_name`` or ``auto``). Raises ``formats.NothingToImport`` for a
    wrong or empty folder before anything is stored."""
    plans = plan(format_name, directory)
    known = list(configured)
    outcomes: list[ImportOutcome] = []
    for step in plans:
        title = step.format.title
        counter = _Counter(title, len(step.files), on_progress)
        summary = await import_chunked(
            archive,
            step.format.parse_all(step.root, step.files, options),
            source=step.format.source or step.format.name,
            accounts=AccountMapper(archive, known, title),
            normalize=normalize,
            on_file=counter.file_done,
            on_messages=counter.messages_read,
            correct_directions=bool(options.me),
        )
        outcomes.append(ImportOutcome(title, summary, tuple(summary_lines(summary, title, directory, verbose=verbose))))
    return outcomes
