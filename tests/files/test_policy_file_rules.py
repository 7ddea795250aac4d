"""The policy file's file keys reach the engine as per-account file rules (issue 16, item 5)."""

from __future__ import annotations

from pathlib import Path

from aggregator.api import Sphere
from aggregator.files.rules import FileMode, check_file
from aggregator.policy.engine import PolicyEngine
from aggregator.policy.file import parse_policy

POLICY = """
version = 1
[rules]
clamd_socket = "/run/clamav/clamd.ctl"
[rules.work]
file_transfer = "scan"
max_file_mb = 25
blocked_extensions = [".EXE", "scr", "js"]
scan_required = true
[rules.personal]
file_transfer = "allow"
[rules.accounts."xmpp:me@corp.example"]
max_file_mb = 5
"""


def _engine(text: str) -> tuple[PolicyEngine, list[str]]:
    policy, problems = parse_policy(text, source=None, setting_names=frozenset())
    spheres = {"xmpp:me@corp.example": Sphere.WORK, "xmpp:other@corp.example": Sphere.WORK, "irc:me": Sphere.PERSONAL}
    engine = PolicyEngine(policy)
    engine.bind_accounts(lambda: spheres)
    return engine, [str(p) for p in problems]


def test_work_files_are_scanned_limited_and_filtered() -> None:
    engine, problems = _engine(POLICY)
    assert problems == []
    rules = engine.file_rules("xmpp:other@corp.example")
    assert rules.mode is FileMode.SCAN and rules.scans and rules.scan_required
    assert rules.max_file_mb == 25
    assert rules.blocked_extensions == {"exe", "scr", "js"}
    assert engine.clamd_socket == Path("/run/clamav/clamd.ctl")
    refusal = check_file(rules, "payroll.xlsx.exe", 10)
    assert refusal is not None and refusal.rule == "blocked_extensions"


def test_an_account_overrides_its_sphere_and_personal_is_free() -> None:
    engine, _ = _engine(POLICY)
    assert engine.file_rules("xmpp:me@corp.example").max_file_mb == 5
    assert engine.file_rules("xmpp:me@corp.example").mode is FileMode.SCAN
    personal = engine.file_rules("irc:me")
    assert personal.mode is FileMode.ALLOW and not personal.scans and personal.max_file_mb is None


def test_bad_file_keys_are_reported_and_skipped() -> None:
    _, problems = _engine(
        """
version = 1
[rules]
clamd_socket = "relative.sock"
[rules.work]
file_transfer = "quarantine"
max_file_mb = 0
blocked_extensions = ["ex e"]
"""
    )
    joined = "\n".join(problems)
    assert "rules.clamd_socket: must be an absolute path" in joined
    assert "rules.work.file_transfer: must be one of 'allow', 'deny', 'scan'" in joined
    assert "rules.work.max_file_mb: must be a whole number of megabytes" in joined
    assert "rules.work.blocked_extensions: not a file extension: 'ex e'" in joined
