"""The value types of the application layer's inputs and outputs.

They are defined next to the services that own them (a stored message in the archive, a person id in
the roster...); a front end takes them from here, so it depends on the application layer only.
"""

from __future__ import annotations

from aggregator.accounts.config import AccountConfig, make_account_id
from aggregator.accounts.trust import certificate_lines, normalize_fingerprint, pinned_warning
from aggregator.archive.importers import ReadOptions
from aggregator.archive.importers.formats import formats as import_formats
from aggregator.archive.importers.session import ImportOutcome, ImportProgress
from aggregator.archive.records import Direction, StoredMessage
from aggregator.policy.engine import ConfirmationRequiredError, Verdict
from aggregator.policy.setup import SetupNeed
from aggregator.prefs.keys import SECONDS_KEYS, SettingView, Source
from aggregator.presence.status import StatusBook
from aggregator.rooms.records import Room
from aggregator.roster.records import Person, PersonId
from aggregator.search.filters import SearchFilters
from aggregator.search.query import SearchError
from aggregator.search.service import Context
from aggregator.search.snippet import Segment
from aggregator.templates import Template, TemplateSource

__all__ = [
    "SECONDS_KEYS",
    "AccountConfig",
    "ConfirmationRequiredError",
    "Context",
    "Direction",
    "ImportOutcome",
    "ImportProgress",
    "Person",
    "PersonId",
    "ReadOptions",
    "Room",
    "SearchError",
    "SearchFilters",
    "Segment",
    "SettingView",
    "SetupNeed",
    "Source",
    "StatusBook",
    "StoredMessage",
    "Template",
    "TemplateSource",
    "Verdict",
    "certificate_lines",
    "import_formats",
    "make_account_id",
    "normalize_fingerprint",
    "pinned_warning",
]
