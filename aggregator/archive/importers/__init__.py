"""Importing other clients' chat logs into the archive.

Each format (``formats.formats()``: Pidgin, Trillian, ...) turns a log directory into ``LogFile``
values (parsed conversations, plus what it could not read and why); ``runner.import_logs`` maps them
onto accounts, contacts and conversations and stores them through ``Archive.import_messages``. Every
imported line gets a deterministic server id, so running an import twice stores nothing new.
"""

from aggregator.archive.importers.common import (
    ImportSummary,
    LogFile,
    LogFormat,
    LogLine,
    ReadOptions,
    Skipped,
)
from aggregator.archive.importers.runner import AccountMapper, KnownAccount, import_chunked, import_logs

__all__ = [
    "AccountMapper",
    "ImportSummary",
    "KnownAccount",
    "LogFile",
    "LogFormat",
    "LogLine",
    "ReadOptions",
    "Skipped",
    "import_chunked",
    "import_logs",
]
