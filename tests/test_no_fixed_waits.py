"""No test waits a fixed time and then asserts that nothing (more) happened.

A fixed wait followed by an assertion passes vacuously on a slow machine: the duplicate, the second send,
the notification that must not come simply has not happened *yet*. A test proves absence with a later
event instead: a marker message sent afterwards on the same connection (messages on one connection are
ordered), a PING/PONG round trip, or the engine's drain point; and it waits for something to happen by
polling the condition with a bounded timeout (``eventually``, ``wait_until``, ``qtbot.waitUntil``,
``EventCollector.wait_for``), never by sleeping.

This test reads every test module and flags, inside one function:

- a fixed wait (``asyncio.sleep(x)`` / ``time.sleep(x)`` with ``x != 0``, ``qtbot.wait(x)`` /
  ``QTest.qWait(x)`` with ``x != 0``, ``…settle(…)``) that is not inside a loop (a polling loop is the
  bounded wait we want) and is followed by an ``assert`` in the same function;
- ``pytest.raises(TimeoutError)``: waiting a fixed time for something that must not come.

Justified exceptions are listed in ``ALLOWED`` with the reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# (path relative to the repository, function name) -> why the fixed wait is right there.
ALLOWED: dict[tuple[str, str], str] = {
    # -- the wait is the scenario, not a wait for an outcome
    ("tests/cli/test_irc_delivery.py", "test_a_message_sent_while_the_server_is_frozen_arrives_once"): (
        "the sleep is the server's freeze itself (SIGSTOP for FREEZE s); the outcome is then proved with a "
        "marker message sent after it"
    ),
    (
        "tests/protocols/xmpp/test_adapter.py",
        "test_send_fails_with_network_error_when_the_stream_drops_before_the_ack",
    ): (
        "the server is frozen (SIGSTOP): no event can come; the 50 ms only lets the send reach its wait for the "
        "ack, and the NetworkError 'dropped before the server confirmed' asserted after the abort proves it did"
    ),
    ("tests/chaos/test_kill_import.py", "import_killed"): (
        "the seeded delay is the kill point itself (SIGKILL that long after the start), not a wait for an outcome"
    ),
    # -- the absence of a retry *timer* in a separate process (run --headless): a retry is driven by the
    #    reconnect backoff, not by an event, so its absence can only be observed over a window. Each window
    #    is several times the first retry delay (FAST_RECONNECT: 0.2 s, doubling to 1 s; the default: 1 s),
    #    and the assertions count connection attempts, which any retry would raise. (In-process, the core
    #    test waits for the connect loop's task to end instead: tests/core/test_pipeline.py.)
    ("tests/cli/test_run.py", "test_a_wrong_password_fails_once_and_is_not_retried"): "retry timer window (3 s)",
    ("tests/cli/test_xmpp_e2e.py", "test_a_wrong_password_is_a_clear_error_and_not_retried"): "retry timer window",
    ("tests/cli/test_xmpp_e2e.py", "test_an_untrusted_certificate_is_refused_naming_the_problem"): (
        "retry timer window (1 s: five first retry delays)"
    ),
    ("tests/cli/test_matrix_e2e.py", "test_a_wrong_password_is_a_clear_error_and_not_retried"): "retry timer window",
    ("tests/cli/test_matrix_e2e.py", "test_a_revoked_token_logs_in_again_with_the_password"): (
        "retry timer window: the new login happens once, not in a loop"
    ),
    ("tests/cli/test_matrix_e2e.py", "test_a_revoked_token_and_a_changed_password_fail_clearly_without_retrying"): (
        "retry timer window"
    ),
    ("tests/cli/test_matrix_e2e.py", "test_an_unreachable_homeserver_is_retried_with_backoff"): (
        "measures the backoff itself: the number of attempts in a 4 s window of the default 1 s doubling delay"
    ),
}


@dataclass(frozen=True)
class Finding:
    path: str
    function: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}: {self.what}"


def _constant_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in (0, 0.0)


def _call_name(call: ast.Call) -> str:
    """``asyncio.sleep`` for ``asyncio.sleep(...)``, ``qtbot.wait`` for ``qtbot.wait(...)``, ``settle`` for
    ``settle()`` or ``x.sink.settle()``: the last two dotted parts."""
    parts: list[str] = []
    node: ast.expr = call.func
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts[:2]))


def _fixed_wait(call: ast.Call) -> str | None:
    name = _call_name(call)
    last = name.rsplit(".", 1)[-1]
    if last == "settle":
        return f"{name}() waits a fixed time"
    if (
        name in ("asyncio.sleep", "time.sleep", "qtbot.wait", "QTest.qWait")
        and call.args
        and not _constant_zero(call.args[0])
    ):
        return f"{name}({ast.unparse(call.args[0])}) is a fixed wait"
    return None


def _timeout_expected(node: ast.With | ast.AsyncWith) -> bool:
    for item in node.items:
        expr = item.context_expr
        if (
            isinstance(expr, ast.Call)
            and _call_name(expr).endswith("raises")
            and expr.args
            and ast.unparse(expr.args[0]) in ("TimeoutError", "asyncio.TimeoutError")
        ):
            return True
    return False


class _FunctionScan(ast.NodeVisitor):
    """Walks one function body (not nested functions) in source order."""

    def __init__(self) -> None:
        self.loop_depth = 0
        self.waits: list[tuple[int, str]] = []
        self.asserts: list[int] = []
        self.timeouts: list[int] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # nested: scanned on its own
        return

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        return

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return

    def _loop(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        self.loop_depth += 1
        self.generic_visit(node)
        self.loop_depth -= 1

    visit_For = _loop
    visit_AsyncFor = _loop
    visit_While = _loop

    def visit_Call(self, node: ast.Call) -> None:
        what = _fixed_wait(node)
        if what is not None and (self.loop_depth == 0 or what.endswith("() waits a fixed time")):
            self.waits.append((node.lineno, what))
        self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> None:
        self.asserts.append(node.lineno)
        self.generic_visit(node)

    def _with(self, node: ast.With | ast.AsyncWith) -> None:
        if _timeout_expected(node):
            self.timeouts.append(node.lineno)
        self.generic_visit(node)

    visit_With = _with
    visit_AsyncWith = _with


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def findings(path: Path, root: Path = ROOT) -> list[Finding]:
    relative = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
    found: list[Finding] = []
    for function in _functions(tree):
        scan = _FunctionScan()
        for statement in function.body:
            scan.visit(statement)
        for line, what in scan.waits:
            if what.endswith("() waits a fixed time") or any(after > line for after in scan.asserts):
                found.append(Finding(relative, function.name, line, f"{what}, then asserts"))
        for line in scan.timeouts:
            found.append(Finding(relative, function.name, line, "expects a TimeoutError: a fixed wait for absence"))
    return found


def modules_to_check() -> list[Path]:
    """Every test module and test helper, without the server launchers (they poll real processes)."""
    return sorted(
        path
        for path in TESTS.rglob("*.py")
        if "servers" not in path.relative_to(TESTS).parts and path.name != Path(__file__).name
    )


def test_no_test_asserts_after_a_fixed_wait() -> None:
    problems = [
        str(finding)
        for path in modules_to_check()
        for finding in findings(path)
        if (finding.path, finding.function) not in ALLOWED
    ]
    assert not problems, (
        "fixed waits followed by assertions (wait for an event that proves it instead; see this module's "
        "docstring):\n  " + "\n  ".join(problems)
    )


def test_every_allowed_exception_is_still_needed() -> None:
    """An entry whose function no longer waits a fixed time goes. (An entry whose file is not in this
    checkout is skipped: a branch may list a test that arrives with another.)"""
    flagged = {(finding.path, finding.function) for path in modules_to_check() for finding in findings(path)}
    present = {entry for entry in ALLOWED if (ROOT / entry[0]).exists()}
    stale = sorted(present - flagged)
    assert not stale, f"allowed exceptions that no longer wait a fixed time; remove them from ALLOWED: {stale}"


def test_the_check_catches_a_sleep_then_an_absence_assert(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "import asyncio\n"
        "import pytest\n"
        "async def test_bad(sink):\n"
        "    await asyncio.sleep(1.0)\n"
        "    assert not sink.events\n"
        "async def test_timeout(peer):\n"
        "    with pytest.raises(TimeoutError):\n"
        "        await peer.next_message(timeout=0.5)\n"
        "async def test_settle(sink):\n"
        "    await sink.settle()\n"
        "async def test_polls(sink):\n"
        "    while not sink.events:\n"
        "        await asyncio.sleep(0.05)\n"
        "    assert sink.events\n"
        "async def test_yields(sink):\n"
        "    await asyncio.sleep(0)\n"
        "    assert sink.events\n",
        encoding="utf-8",
    )
    functions = sorted({finding.function for finding in findings(sample, root=tmp_path)})
    assert functions == ["test_bad", "test_settle", "test_timeout"]
