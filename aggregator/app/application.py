"""``App``: the application layer over one running core, for the window (and any in-process front end).

Every method runs on the engine thread (the window reaches it through ``ui.bridge.Bridge``: ``run`` for
the plain ones, ``call`` for the coroutines); what it returns is a frozen value the GUI thread may keep.
The inner services (archive, roster, rooms, policy, accounts, outbound...) are its implementation only:
a front end imports ``aggregator.app``, ``aggregator.api`` and event types, nothing else of the core.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aggregator.accounts.config import AccountConfig
from aggregator.accounts.trust import ca_file_lock, pinned_warning, trust_presented_certificate
from aggregator.api import (
    AccountId,
    AggregatorError,
    CertificateDetails,
    ContactRef,
    ConversationKey,
    MessageKind,
    Presence,
    Sphere,
)
from aggregator.app import files, links, oneshot, person_commands, room_rows, rows, search_rows
from aggregator.app.account_selves import AccountSelf, account_selves
from aggregator.app.accounts import AccountCommands
from aggregator.app.contacts import ContactCommands
from aggregator.app.enrich import Enricher
from aggregator.app.log_sources import LogSource, find_log_sources
from aggregator.app.preferences import BookChange, PrefsSnapshot, apply_changes, load_snapshot
from aggregator.app.reply_info import ReplyInfo, reply_info
from aggregator.app.requests import Requests
from aggregator.archive.importers import KnownAccount, ReadOptions
from aggregator.archive.importers.session import ImportOutcome, ImportProgress, import_history
from aggregator.archive.records import StoredMessage
from aggregator.bootstrap import build_core
from aggregator.bus import PRIORITY_UI, Subscription
from aggregator.control.server import ControlServer
from aggregator.core import Core
from aggregator.events import ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.policy.setup import SetupNeed, complete, pending
from aggregator.presence.events import OwnStatusChanged
from aggregator.registry import ProtocolRegistry
from aggregator.rooms.mentions import own_names
from aggregator.rooms.records import Room
from aggregator.roster.records import PersonId
from aggregator.search.filters import SearchFilters
from aggregator.templates import Template, TemplateStore

log = logging.getLogger(__name__)

#: Builds the core of a profile (tests pass one with short reconnection delays).
CoreFactory = Callable[[ProfilePaths, ProtocolRegistry], Core]


def default_core(paths: ProfilePaths, registry: ProtocolRegistry) -> Core:
    return build_core(paths, registry=registry)


def open_app(paths: ProfilePaths, *, database_url: str | None = None) -> App:
    """Engine thread: the profile's core for the CLI (``database_url``: None is the setting or the file)."""
    return App(build_core(paths, database_url=database_url))


def build_app(paths: ProfilePaths, registry: ProtocolRegistry, core_factory: CoreFactory = default_core) -> App:
    """Engine thread: open the profile's core (nothing connects before ``App.start``)."""
    return App(core_factory(paths, registry))


class App:
    def __init__(self, core: Core) -> None:
        self._core = core
        self.accounts = AccountCommands.live_on(core)
        self.contacts = ContactCommands(core)
        self.events = Enricher(core)
        self.requests = Requests(core)

    # -- life cycle (the composition root) ---------------------------------------------------------

    def subscribe(
        self, event_type: type[Any], handler: Callable[[Any], None], *, priority: int = PRIORITY_UI
    ) -> Subscription:
        """The core's events of ``event_type``, enriched (``aggregator.app.enrich``)."""
        return self.events.subscribe(event_type, handler, priority=priority)

    def control_server(self, socket: Path) -> ControlServer:
        """The control socket of this instance (``aggregator send`` / ``status`` while it runs)."""
        return ControlServer(self.requests.handle, socket)

    async def start(self, only: list[AccountId] | None = None) -> None:
        """Connect the enabled accounts (``only``: a one-shot command, just those)."""
        await self._core.start(only)

    async def stop(self) -> None:
        await self._core.stop()
        self._core.close()

    # -- accounts and own status -------------------------------------------------------------------

    def configured_accounts(self) -> list[AccountConfig]:
        """The accounts of this run."""
        return self._core.accounts.configs()

    def pinned_warning(self, account_id: AccountId) -> str | None:
        """The warning of an account that trusts a pinned certificate (None: none, or no such account)."""
        try:
            return pinned_warning(self._core.accounts.config(account_id))
        except KeyError:
            return None

    # one-shot commands (a core that runs for one command; aggregator.app.oneshot)

    async def send_alone(
        self, account: AccountConfig, to: str, text: str, confirm: bool = False, file: Path | None = None
    ) -> StoredMessage:
        return await oneshot.send_alone(self._core, account, to, text, confirm, file)

    def file_rows(self, *, with_handle: str | None = None, limit: int = 100) -> list[files.FileRow]:
        return files.rows(self._core, with_handle=with_handle, limit=limit)

    async def fetch_file(self, attachment_id: int) -> files.StoredAttachment:
        return await files.service(self._core).fetch(attachment_id)

    async def save_file(self, attachment_id: int, target: Path) -> Path:
        return await files.service(self._core).save(attachment_id, target)

    async def connect_alone(self, account: AccountConfig) -> tuple[ConnectionState, str, CertificateDetails | None]:
        return await oneshot.connect_alone(self._core, account)

    async def trust_and_wait(self, account_id: AccountId, fingerprint: str) -> tuple[ConnectionState, str]:
        return await oneshot.trust_and_wait(self._core, account_id, fingerprint)

    async def pin_and_wait(self, account: AccountConfig, fingerprint: str) -> tuple[ConnectionState, str]:
        return await oneshot.pin_and_wait(self._core, account, fingerprint)

    def account_rows(self) -> list[rows.AccountRow]:
        return rows.all_accounts(self._core)

    def accounts_view(self) -> tuple[list[AccountConfig], list[rows.AccountRow]]:
        """The configured accounts of this run and their rows (the accounts dialog)."""
        return self._core.accounts.configs(), rows.all_accounts(self._core)

    def accounts_and_shown(self) -> tuple[list[rows.AccountRow], dict[AccountId, Presence]]:
        """The account rows and the presence each account shows (the accounts strip)."""
        return rows.all_accounts(self._core), dict(self._core.status.snapshot().shown)

    def status_snapshot(self) -> tuple[OwnStatusChanged, list[rows.AccountRow]]:
        return self._core.status.snapshot(), rows.all_accounts(self._core)

    async def set_status(
        self, presence: Presence | None, *, sphere: Sphere | None = None, account: AccountId | None = None
    ) -> None:
        await self._core.status.set_status(presence, sphere=sphere, account=account)

    def user_active(self) -> None:
        """The user typed or clicked in a window of ours: auto-away counts it where the desktop has no
        idle monitor, and ends at once."""
        self._core.status.input_seen()

    def ca_file_lock(self, account_id: AccountId) -> str | None:
        """Why the policy refuses trusting a certificate for the account (None: it does not)."""
        return ca_file_lock(self._core.policy, self._core.paths, account_id)

    async def trust_presented_certificate(self, account_id: AccountId, fingerprint: str | None) -> AccountConfig:
        return await trust_presented_certificate(self._core, account_id, fingerprint)

    def setup_pending(self) -> list[SetupNeed]:
        """The organisation's preseeded accounts that still need a password or a username."""
        return pending(self._core)

    async def complete_setup(self, need: SetupNeed, *, username: str, password: str) -> AccountId:
        return await complete(self._core, need, username=username, password=password)

    def account_selves(self, account_ids: tuple[AccountId, ...]) -> dict[AccountId, AccountSelf]:
        return account_selves(self._core, account_ids)

    # -- persons -----------------------------------------------------------------------------------

    def buddy_list(self) -> tuple[list[rows.PersonRow], int]:
        """Every person's row, and the total of unread messages."""
        return rows.all_persons(self._core), self._core.roster.unread.total()

    def person_rows(self, ids: set[PersonId]) -> tuple[list[rows.PersonRow], list[PersonId]]:
        return rows.person_rows(self._core, ids)

    def merge_persons(self, into: PersonId, other: PersonId) -> PersonId:
        return person_commands.merge(self._core, into, other)

    def split_contact(self, ref: ContactRef) -> PersonId:
        return person_commands.split(self._core, ref)

    def rename_person(self, person_id: PersonId, alias: str | None) -> PersonId:
        return person_commands.rename(self._core, person_id, alias)

    def move_person_to_sphere(self, person_id: PersonId, sphere: Sphere, *, leave_groups: bool = False) -> PersonId:
        return person_commands.move_to_sphere(self._core, person_id, sphere, leave_groups=leave_groups)

    def move_person_to_group(self, person_id: PersonId, group: str, sphere: Sphere | None = None) -> PersonId:
        return person_commands.move_to_group(self._core, person_id, group, sphere)

    def remove_person_from_group(self, person_id: PersonId, group: str) -> PersonId:
        return person_commands.remove_from_group(self._core, person_id, group)

    def reject_suggestion(self, person_id: PersonId, other: PersonId) -> None:
        person_commands.reject(self._core, person_id, other)

    def local_groups(self) -> list[str]:
        return person_commands.local_groups(self._core)

    def suggestion_rows(self) -> list[person_commands.SuggestionRow]:
        return person_commands.suggestion_rows(self._core)

    def person_history(
        self, person_id: PersonId, limit: int | None = None, before_id: int | None = None
    ) -> list[StoredMessage]:
        return self._core.roster.history(person_id, limit=limit, before_id=before_id)

    def person_history_after(self, person_id: PersonId, after_id: int, limit: int | None = None) -> list[StoredMessage]:
        return self._core.roster.history_after(person_id, after_id, limit=limit)

    def person_history_around(
        self, person_id: PersonId, message_id: int, before: int = 25, after: int = 25
    ) -> list[StoredMessage]:
        return self._core.roster.history_around(person_id, message_id, before=before, after=after)

    def mark_person_read(self, person_id: PersonId) -> None:
        self._core.roster.unread.mark_person_read(person_id)

    # -- rooms -------------------------------------------------------------------------------------

    def all_rooms(self) -> list[room_rows.RoomRow]:
        return room_rows.all_rooms(self._core)

    def room_row(self, room: Room) -> room_rows.RoomRow:
        return room_rows.room_row(self._core, room)

    def group_chat_accounts(self) -> list[room_rows.GroupChatAccount]:
        return room_rows.group_chat_accounts(self._core)

    async def join_room(self, account_id: AccountId, address: str, nick: str | None = None) -> Room:
        return await self._core.rooms.join(account_id, address, nick)

    async def join_room_row(self, account_id: AccountId, address: str, nick: str | None = None) -> room_rows.RoomRow:
        return room_rows.room_row(self._core, await self._core.rooms.join(account_id, address, nick))

    async def leave_room(self, key: ConversationKey) -> Room | None:
        return await self._core.rooms.leave(key)

    async def set_topic(self, key: ConversationKey, topic: str) -> None:
        await self._core.rooms.set_topic(key, topic)

    def room_history(
        self, key: ConversationKey, limit: int | None = None, before_id: int | None = None
    ) -> list[StoredMessage]:
        return self._core.rooms.history(key, limit=limit, before_id=before_id)

    def mark_room_read(self, key: ConversationKey) -> None:
        room_rows.mark_room_read(self._core, key)

    def room_mention_names(self, key: ConversationKey) -> tuple[str, ...]:
        """Our nick in the room and our address on its account."""
        try:
            address = self._core.accounts.config(key.account_id).address
        except KeyError:
            address = ""
        return own_names(self._core.rooms.room(key), address)

    def resolve_link(self, target: links.LinkTarget) -> links.Resolved:
        """The conversation a link names: the person of a direct link (when known) and its candidate keys."""
        return links.resolve(self._core, target)

    # -- messages ----------------------------------------------------------------------------------

    async def send(
        self, to: ConversationKey, body: str, kind: MessageKind = MessageKind.CHAT, *, confirmed: bool = False
    ) -> StoredMessage:
        return await self._core.outbound.send(to.account_id, to.handle, body, kind, confirmed=confirmed)

    async def retry(self, message_id: int) -> StoredMessage:
        return await self._core.outbound.retry(message_id)

    async def send_file(self, to: ConversationKey, path: Path, caption: str = "") -> StoredMessage:
        """Send a local file (checked against the policy's file rules first) with an optional caption."""
        return await self._core.outbound.send(to.account_id, to.handle, caption, file=path)

    def attachments_for(self, message_ids: list[int]) -> dict[int, list[files.StoredAttachment]]:
        return files.service(self._core).for_messages(message_ids)

    def cancel_file(self, attachment_id: int) -> bool:
        return files.service(self._core).cancel(attachment_id)

    async def set_typing(self, account_id: AccountId, handle: str, typing: bool) -> bool:
        return await self._core.outbound.set_typing(account_id, handle, typing)

    def reply_info(self, account_id: AccountId) -> ReplyInfo:
        return reply_info(self._core, account_id)

    # -- templates ---------------------------------------------------------------------------------

    def _templates(self) -> TemplateStore:
        return TemplateStore.for_profile(self._core.paths, self._core.policy.templates)

    def templates(self) -> list[Template]:
        return self._templates().all()

    def template(self, name: str) -> Template:
        return self._templates().get(name)

    def add_template(self, name: str, text: str) -> Template:
        return self._templates().add(name, text)

    # -- search ------------------------------------------------------------------------------------

    def search(self, text: str, filters: SearchFilters, limit: int) -> search_rows.SearchAnswer:
        return search_rows.run_search(self._core, text, filters, limit)

    def search_filter_choices(self) -> search_rows.FilterChoices:
        return search_rows.filter_choices(self._core)

    def message_context(self, message_id: int, n: int) -> search_rows.ContextAnswer | None:
        return search_rows.message_context(self._core, message_id, n)

    # -- settings ----------------------------------------------------------------------------------

    def preferences(self) -> PrefsSnapshot:
        return load_snapshot(self._core)

    async def apply_preferences(self, settings: list[tuple[str, str]], book: BookChange | None) -> list[str]:
        return await apply_changes(self._core, settings, book)

    # -- import ------------------------------------------------------------------------------------

    def old_log_sources(self) -> list[LogSource]:
        """Other clients' logs in their default folders (the first run offers to import them)."""
        return find_log_sources()

    async def import_history(
        self,
        directory: Path,
        format_name: str,
        options: ReadOptions,
        on_progress: Callable[[ImportProgress], None] | None = None,
    ) -> list[ImportOutcome]:
        core = self._core
        configured = [KnownAccount(a.id, a.protocol, a.address, a.label, a.sphere) for a in core.account_store.load()]

        def normalize(protocol: str, handle: str) -> str:
            try:
                return core.registry.get(protocol).normalize_handle(handle)
            except (AggregatorError, ValueError):
                return handle

        return await import_history(
            core.archive, configured, directory, format_name, options, normalize=normalize, on_progress=on_progress
        )
