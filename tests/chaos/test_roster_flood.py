"""Roster floods on Prosody, with a message from bob queued right behind them: it must be stored within
a bounded wait, not minutes later.

- ``snapshot``: alice's roster holds 4,000 contacts (written to Prosody's store before her first login,
  as an organisation's directory would be), delivered to the client in one roster result at login.
- ``pushes``: another device of alice's adds 4,000 contacts one by one: 4,000 roster pushes, the roster
  growing with each (on a private Prosody that keeps rosters in SQLite, see ``roster_prosody``).
- ``churn``: the same device adds and removes contacts, 2,000 pushes on a roster that stays small (the
  session's Prosody, file store). Marked ``chaos_long``: it adds half a minute and found nothing the
  growing case does not.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from tests.chaos.sides import DELIVERY_TIMEOUT, STORED, XmppSide, assert_keeps_working, bodies_of, wait_for, xmpp_side
from tests.cli.conftest import Headless, Profile
from tests.contract.xmpp_harness import close_client, login_client
from tests.servers.prosody import DOMAIN, ProsodyServer

log = logging.getLogger(__name__)

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]

CONTACTS = 4000
PUSHES = 4000
CHURN = 2000
#: The message behind the flood must be stored this soon after bob sent it.
BOUND = 20.0


def prosody_encode(text: str) -> str:
    """Prosody's file-store name encoding (``util.datamanager``): every non-alphanumeric byte as %xx."""
    return re.sub(r"[^A-Za-z0-9]", lambda m: "".join(f"%{b:02x}" for b in m.group().encode()), text)


def seed_roster(prosody: ProsodyServer, localpart: str, contacts: int) -> None:
    """Writes the roster of a user who has never logged in into Prosody's internal store."""
    folder = prosody.directory / "data" / prosody_encode(DOMAIN) / "roster"
    folder.mkdir(parents=True, exist_ok=True)
    items = "".join(
        f'["contact{n:05d}@{DOMAIN}"] = {{ ["subscription"] = "none"; ["groups"] = {{ ["Directory"] = true }}; '
        f'["name"] = "Contact {n}" }};\n'
        for n in range(contacts)
    )
    text = 'return {\n[false] = { ["version"] = 1; ["pending"] = {} };\n' + items + "};\n"
    (folder / f"{prosody_encode(localpart)}.dat").write_text(text, encoding="utf-8")


async def push_flood(prosody: ProsodyServer, side: XmppSide, pushes: int, *, churn: bool) -> None:
    """``pushes`` roster changes from alice's phone; returns once the server has applied (and pushed) every
    one. Each adds a new contact, or with ``churn`` every second one removes the contact added before."""
    phone = await login_client(prosody, side.alice, side.alice_password, resource="phone", presence=False)
    try:
        for first in range(0, pushes, 500):
            sent = []
            for n in range(first, min(first + 500, pushes)):
                contact = f"flood{n // 2 if churn else n:05d}@{DOMAIN}"
                item = f"<item jid='{contact}' name='Flood {n}'><group>Flood</group></item>"
                if churn and n % 2:
                    item = f"<item jid='{contact}' subscription='remove'/>"
                iq = phone.make_iq_set()
                iq.xml.append(ET.fromstring(f"<query xmlns='jabber:iq:roster'>{item}</query>"))
                sent.append(iq.send(timeout=120))
            await asyncio.gather(*sent)
    finally:
        await close_client(phone)


async def stored_within_bound(profile: Profile, side: XmppSide, headless: Headless, what: str) -> float:
    mark = len(headless.lines)
    queued = time.monotonic()
    behind = f"queued behind the {what}"
    await side.flood([behind])
    try:
        await wait_for(lambda: bool(headless.matching(STORED, start=mark)), f"the message behind the {what}", BOUND)
    except AssertionError:
        raise AssertionError(f"a message queued behind the {what} was not stored within {BOUND:g} s") from None
    took = time.monotonic() - queued
    messages = await profile.wait_history(side.conversation, lambda ms: behind in bodies_of(ms), timeout=5)
    assert bodies_of(messages) == [behind]
    return took


async def test_a_message_behind_a_roster_of_thousands_at_login_is_stored_within_a_bounded_wait(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    async with xmpp_side(profile, running_prosody) as side:
        seed_roster(running_prosody, side.alice.partition("@")[0], CONTACTS)
        headless = await side.start(profile)  # connected: the roster result is on its way or in
        took = await stored_within_bound(profile, side, headless, f"roster of {CONTACTS} contacts")
        log.info("chaos roster snapshot: %d contacts; the message behind them stored %.1f s later", CONTACTS, took)
        await assert_keeps_working(profile, side, "roster snapshot")
        assert headless.running
        assert await headless.stop(timeout=DELIVERY_TIMEOUT) == 0


@pytest.mark.parametrize(
    ("pushes", "churn"),
    [
        pytest.param(PUSHES, False, id="growing"),
        pytest.param(CHURN, True, id="churn", marks=pytest.mark.chaos_long),
    ],
)
async def test_a_message_behind_thousands_of_roster_pushes_is_stored_within_a_bounded_wait(
    profile: Profile, prosody_for: Callable[[bool], ProsodyServer], pushes: int, churn: bool
) -> None:
    prosody = prosody_for(churn)
    async with xmpp_side(profile, prosody) as side:
        headless = await side.start(profile)
        started = time.monotonic()
        await push_flood(prosody, side, pushes, churn=churn)
        flooded = time.monotonic() - started
        took = await stored_within_bound(profile, side, headless, f"{pushes} roster pushes")
        log.info("chaos roster pushes (%s): %d pushes in %.1f s; the message behind them stored %.1f s later",
                 "churn" if churn else "growing", pushes, flooded, took)  # fmt: skip
        await assert_keeps_working(profile, side, "roster pushes")
        assert headless.running
        assert await headless.stop(timeout=DELIVERY_TIMEOUT) == 0


@pytest.fixture
def prosody_for(request: pytest.FixtureRequest) -> Callable[[bool], ProsodyServer]:
    """The server of a push case: the session's Prosody for churn, the SQL-roster one for a growing roster
    (started only by the case that needs it)."""

    def choose(churn: bool) -> ProsodyServer:
        name = "running_prosody" if churn else "roster_prosody"
        server: ProsodyServer = request.getfixturevalue(name)
        return server

    return choose
