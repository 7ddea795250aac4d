"""The test environment itself: a real Secret Service, and a PySide6 without the 6.12 refcount bug."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from importlib.metadata import version

import pytest


def test_keyring_is_a_real_secret_service(keyring_env: None) -> None:
    import keyring
    from keyring.backends import SecretService

    backend = keyring.get_keyring()
    assert isinstance(backend, SecretService.Keyring), f"unexpected keyring backend: {backend!r}"

    service = f"aggregator-test-{uuid.uuid4().hex}"
    keyring.set_password(service, "alice@example.org", "s3cret")
    try:
        assert keyring.get_password(service, "alice@example.org") == "s3cret"
    finally:
        keyring.delete_password(service, "alice@example.org")
    assert keyring.get_password(service, "alice@example.org") is None


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_pyside6_is_below_6_12_on_python_3_11() -> None:
    # PySide6 6.12.0 on Python 3.11 drops a reference to None in every void setter and aborts the
    # interpreter after ~5,200 calls (facts/libraries.md section 2). Keep the pin while we are on 3.11.
    installed = version("PySide6-Essentials")
    major, minor = (int(part) for part in installed.split(".")[:2])
    assert (major, minor) < (6, 12), f"PySide6-Essentials {installed} aborts Python 3.11; pin <6.12"


_VOID_SETTERS = textwrap.dedent(
    """
    from PySide6.QtCore import QObject, Qt
    from PySide6.QtGui import QStandardItem
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    obj = QObject()
    for i in range(20_000):
        obj.setObjectName(f"object-{i}")
    item = QStandardItem()
    for i in range(20_000):
        item.setData(f"value-{i}", Qt.ItemDataRole.UserRole)
    print("ok")
    """
)


def test_void_setters_do_not_abort_the_interpreter() -> None:
    # Run in a subprocess: the bug kills the interpreter ("Fatal Python error: none_dealloc"), which
    # must show up as this test failing with the child's stderr, not as a crashed test run.
    proc = subprocess.run(
        [sys.executable, "-c", _VOID_SETTERS],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (
        f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
