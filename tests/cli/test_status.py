"""``aggregator status workhours``: set, show, override for the rest of today, off; kept in status.json."""

from __future__ import annotations

import json

from tests.cli.conftest import Profile


async def test_work_hours_set_show_override_off(profile: Profile) -> None:
    shown = (await profile.run("status", "workhours", "show")).ok()
    assert "work hours: off" in shown.stdout
    (await profile.run("status", "workhours", "set", "mon-fri", "09:00-17:30", "--away-status", "busy")).ok()
    data = json.loads((await profile.run("status", "workhours", "show", "--json")).ok().stdout)
    assert data["days"] == {str(d): ["09:00", "17:30"] for d in range(5)} and data["quiet_kind"] == "busy"
    before = data["working_now"]
    text = (await profile.run("status", "workhours", "show")).ok().stdout
    assert "mon  09:00-17:30" in text and "sat" not in text and "off-duty accounts show: busy" in text
    (await profile.run("status", "workhours", "override", "--until-end-of-day")).ok()
    data = json.loads((await profile.run("status", "workhours", "show", "--json")).ok().stdout)
    assert data["working_now"] is (not before) and data["override_day"]
    (await profile.run("status", "workhours", "override", "--clear")).ok()
    data = json.loads((await profile.run("status", "workhours", "show", "--json")).ok().stdout)
    assert data["working_now"] is before and data["override_day"] is None
    stored = json.loads((profile.home / "config" / "status.json").read_text())
    assert stored["work_hours"]["quiet_kind"] == "busy"
    bad = await profile.run("status", "workhours", "set", "mon-fri", "17:00-09:00")
    assert "ends after it starts" in bad.error_line(2)
    odd = await profile.run("status", "workhours", "set", "mon-fri")
    assert "DAYS HOURS" in odd.error_line(2)
    (await profile.run("status", "workhours", "off")).ok()
    assert "work hours: off" in (await profile.run("status", "workhours", "show")).ok().stdout
