"""Importing other clients' chat logs into the archive: Pidgin (``pidgin``) and Trillian (``trillian``).

Each reader turns a log directory into ``LogFile`` values (parsed conversations, plus what it could
not read and why); ``runner.import_logs`` maps them onto accounts and conversations and stores them
through ``Archive.import_messages``. Every imported line gets a deterministic server id, so running
an import twice stores nothing new.
"""

from aggregator.archive.importers.common import ImportSummary, LogFile, LogLine, Skipped
from aggregator.archive.importers.runner import AccountMapper, KnownAccount, import_logs

__all__ = ["AccountMapper", "ImportSummary", "KnownAccount", "LogFile", "LogLine", "Skipped", "import_logs"]
