"""Sending extras in the core: retrying a failed message, typing notices, /me actions, templates."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aggregator.api import ConfigurationError, MessageKind, MessageState
from aggregator.events import ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.templates import TemplateError, TemplateSource, TemplateStore
from tests.core.conftest import CoreWorld, eventually


async def test_a_failed_message_is_retried_as_the_same_row_and_arrives_once(world: CoreWorld) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    world.server.reject_sends = True
    failed = await core.outbound.send(world.account_id, world.bob, "second try")
    assert failed.state is MessageState.FAILED and "rejected" in failed.error
    world.server.reject_sends = False
    sent = await core.outbound.retry(failed.id)
    assert sent.id == failed.id and sent.idempotency_key == failed.idempotency_key
    assert sent.state is MessageState.SENT and sent.error == ""
    assert [m.body for m in world.server.received(world.alice)] == ["second try"]
    with pytest.raises(ConfigurationError, match="only a message of yours that failed"):
        await core.outbound.retry(sent.id)
    with pytest.raises(ConfigurationError, match="no message"):
        await core.outbound.retry(10**15)


async def test_an_action_goes_out_as_an_action(world: CoreWorld) -> None:
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    row = await core.outbound.send(world.account_id, world.bob, "waves", MessageKind.ACTION)
    assert row.kind is MessageKind.ACTION and row.state is MessageState.SENT
    assert [(m.kind, m.body) for m in world.server.received(world.alice)] == [("action", "waves")]


async def test_typing_notices_reach_the_peer_and_never_raise(world: CoreWorld) -> None:
    core = await world.start()
    assert await core.outbound.set_typing(world.account_id, world.bob, True) is False  # not connected yet
    await world.wait_state(ConnectionState.CONNECTED)
    assert await core.outbound.set_typing(world.account_id, world.bob, True) is True
    assert await core.outbound.set_typing(world.account_id, world.bob, False) is True
    await eventually(lambda: len(world.server.typing_log) == 2)
    assert world.server.typing_log == [(world.alice, world.bob, True), (world.alice, world.bob, False)]
    assert await core.outbound.set_typing("fake:nobody@fake.test", world.bob, True) is False


# -- templates ------------------------------------------------------------------------------------


def test_templates_are_stored_privately_and_the_organisations_win(tmp_path: Path) -> None:
    paths = ProfilePaths.resolve(tmp_path / "home")
    paths.ensure()
    store = TemplateStore.for_profile(paths, {"thanks": "Thank you, we will get back to you."})
    assert [(t.name, t.source) for t in store.all()] == [("thanks", TemplateSource.ORGANISATION)]
    store.add("brb", "Back in five minutes.")
    assert json.loads(store.path.read_text(encoding="utf-8")) == {"brb": "Back in five minutes."}
    assert os.stat(store.path).st_mode & 0o077 == 0
    assert store.get("BRB").text == "Back in five minutes."
    with pytest.raises(TemplateError, match="organisation's templates and cannot be changed"):
        store.add("thanks", "mine")
    with pytest.raises(TemplateError, match="cannot be removed"):
        store.remove("thanks")
    with pytest.raises(TemplateError, match=r"no template called 'nope' \(templates: brb, thanks\)"):
        store.get("nope")
    with pytest.raises(TemplateError, match="needs a name"):
        store.add("  ", "text")
    with pytest.raises(TemplateError, match="needs some text"):
        store.add("x", " ")
    # A user's template of the same name as a later organisation template is hidden, not lost.
    clash = TemplateStore(store.path, {"brb": "Org text"})
    assert clash.get("brb").source is TemplateSource.ORGANISATION
    assert clash.user_templates() == {"brb": "Back in five minutes."}
    store.remove("brb")
    assert store.names() == ["thanks"]
    with pytest.raises(TemplateError, match="you have no template called 'brb'"):
        store.remove("brb")


def test_a_broken_templates_file_is_an_error_not_an_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "templates.json"
    path.write_text("[1, 2", encoding="utf-8")
    with pytest.raises(TemplateError, match="cannot read the templates file"):
        TemplateStore(path, {}).all()
    path.write_text('{"a": 3}', encoding="utf-8")
    with pytest.raises(TemplateError, match="not an object of name: text"):
        TemplateStore(path, {}).add("b", "c")
