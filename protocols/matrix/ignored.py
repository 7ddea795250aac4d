"""Blocking on Matrix: the ``m.ignored_user_list`` account data (``SupportsBlocking``).

The homeserver stops sending what ignored users do (their messages, invitations); the adapter also drops
what of theirs a sync still brings (timeline events of a sync under way, presence, typing), so nothing of
a blocked user is emitted live. Blocking also declines their pending invitations
(``DirectChats.decline_all_from``). The list is read from every sync's account data and changed with a
read, modify and write of the account data, which keeps entries other clients added."""

from __future__ import annotations

import logging
from urllib.parse import quote

from protocols.matrix import mapping
from protocols.matrix.lib import Failure
from protocols.matrix.session import Session

log = logging.getLogger(__name__)

EVENT_TYPE = "m.ignored_user_list"


def ignored_users(content: object) -> frozenset[str]:
    """The user ids an ``m.ignored_user_list`` content names (malformed entries skipped)."""
    users = content.get("ignored_users") if isinstance(content, dict) else None
    if not isinstance(users, dict):
        return frozenset()
    found: set[str] = set()
    for user_id in users:
        try:
            found.add(mapping.user_handle(user_id))
        except mapping.MalformedEvent:
            continue
    return frozenset(found)


class IgnoredUsers:
    def __init__(self, session: Session) -> None:
        self._s = session
        self.users: frozenset[str] = frozenset()

    def __contains__(self, user_id: object) -> bool:
        if not isinstance(user_id, str):
            return False
        try:
            return mapping.user_handle(user_id) in self.users
        except mapping.MalformedEvent:
            return False

    def from_sync(self, content: object) -> None:
        self.users = ignored_users(content)

    @property
    def _path(self) -> str:
        return f"/_matrix/client/v3/user/{quote(self._s.user_id, safe='')}/account_data/{EVENT_TYPE}"

    async def _current(self) -> dict[str, object]:
        """The account data as the server has it now (empty when there is none yet)."""
        client = self._s.require_client()
        status, body = await self._s.call(client.get_json(self._path))
        if status == 404:
            return {}
        if status != 200 or not isinstance(body, dict):
            raise self._s.error_reply("read your ignore list", _failure(status, body))
        users = body.get("ignored_users")
        return dict(users) if isinstance(users, dict) else {}

    async def change(self, handle: str, *, ignore: bool) -> None:
        client = self._s.require_client()
        users = await self._current()
        if ignore:
            users[handle] = {}
        else:
            users = {user: value for user, value in users.items() if user != handle}
        status = await self._s.call(client.put_json(self._path, {"ignored_users": users}))
        if status != 200:
            raise self._s.error_reply("change your ignore list", _failure(status, None))
        self.users = ignored_users({"ignored_users": users})
        log.info("%s: %s %s", self._s.account_id, "ignoring" if ignore else "no longer ignoring", handle)

    async def listed(self) -> tuple[str, ...]:
        self.users = ignored_users({"ignored_users": await self._current()})
        return tuple(sorted(self.users))


def _failure(status: int, body: object) -> Failure:
    code = body.get("errcode") if isinstance(body, dict) else None
    message = body.get("error") if isinstance(body, dict) else None
    return Failure(str(code) if code else str(status), str(message) if message else f"HTTP {status}")
