"""``aggregator templates ...``: the user's templates beside the organisation's, as a user sees them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Profile


async def test_templates_add_list_remove_with_the_organisations_locked(profile: Profile, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[rules]\ntemplates = { thanks = "Thank you, we will get back to you." }\n', encoding="utf-8")
    env = {"AGGREGATOR_POLICY": str(policy)}

    (await profile.run("templates", "add", "brb", "Back in five minutes.", env=env)).ok()
    listed = (await profile.run("templates", "list", env=env)).ok()
    assert listed.stdout.splitlines() == [
        "brb: Back in five minutes.",
        "thanks (organisation): Thank you, we will get back to you.",
    ]
    as_json = (await profile.run("templates", "list", "--json", env=env)).ok()
    assert [json.loads(line)["source"] for line in as_json.stdout.splitlines()] == ["user", "organisation"]

    refused = await profile.run("templates", "add", "thanks", "mine", env=env)
    assert "organisation's templates and cannot be changed" in refused.error_line(1)
    refused = await profile.run("templates", "remove", "thanks", env=env)
    assert "cannot be removed" in refused.error_line(1)
    missing = await profile.run("templates", "remove", "nope", env=env)
    assert "no template called 'nope' (yours: brb)" in missing.error_line(1)

    (await profile.run("templates", "remove", "brb", env=env)).ok()
    listed = (await profile.run("templates", "list", env=env)).ok()
    assert listed.stdout.splitlines() == ["thanks (organisation): Thank you, we will get back to you."]
