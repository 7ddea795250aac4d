"""Other clients' chat logs into the archive of a profile no instance runs, one format after the other
(``auto`` may find several), each read at once with its own progress; the window's import is
``aggregator.archive.importers.session``, which reads the same plans and gives the same summaries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from aggregator.api import AggregatorError
from aggregator.app.accounts import AccountCommands
from aggregator.app.offline.profile import OfflineProfile, held
from aggregator.archive.importers import AccountMapper, KnownAccount, ReadOptions, import_logs
from aggregator.archive.importers.formats import plan
from aggregator.archive.importers.report import summary_lines
from aggregator.archive.importers.session import ImportOutcome
from aggregator.paths import ProfilePaths
from aggregator.registry import ProtocolRegistry


class StepProgress(Protocol):
    def advance(self, n: int = 1) -> None: ...
    def add_items(self, n: int) -> None: ...


#: Opens the progress of one format's files: ``(title, number of files)``.
ProgressFactory = Callable[[str, int], AbstractContextManager[StepProgress]]


def normalizer(registry: ProtocolRegistry) -> Callable[[str, str], str]:
    """A handle as its protocol writes it (unchanged when the protocol is unknown or refuses it)."""

    def normalize(protocol: str, handle: str) -> str:
        try:
            return registry.get(protocol).normalize_handle(handle)
        except (AggregatorError, ValueError):
            return handle

    return normalize


class LogImport:
    """One import: ``formats.NothingToImport`` on creation for a wrong or empty folder, and
    ``ConfigurationError`` when the accounts file cannot be read, before anything is stored."""

    def __init__(self, paths: ProfilePaths, registry: ProtocolRegistry, source: str, directory: Path) -> None:
        self._registry = registry
        self._directory = directory
        self._plans = plan(source, directory)
        self._configured = [
            KnownAccount(a.id, a.protocol, a.address, a.label, a.sphere)
            for a in AccountCommands.offline(paths).accounts()
        ]

    def run(
        self, profile: OfflineProfile, options: ReadOptions, progress: ProgressFactory, *, verbose: bool
    ) -> Iterator[ImportOutcome]:
        """Import each format in turn under the profile's lock (one writer: message ids are allocated
        by this process alone); its outcome comes as soon as it is stored."""
        with held(profile.paths), profile:
            archive = profile.archive
            for step in self._plans:
                title = step.format.title
                with progress(title, len(step.files)) as shown:
                    summary = import_logs(
                        archive,
                        step.format.parse_all(step.root, step.files, options),
                        source=step.format.source or step.format.name,
                        accounts=AccountMapper(archive, self._configured, title),
                        normalize=normalizer(self._registry),
                        on_file=shown.advance,
                        on_messages=shown.add_items,
                        correct_directions=bool(options.me),
                    )
                lines = tuple(summary_lines(summary, title, self._directory, verbose=verbose))
                yield ImportOutcome(title, summary, lines)
