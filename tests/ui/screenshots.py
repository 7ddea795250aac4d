"""Where a test's screenshot goes: docs/screenshots/ with AGGREGATOR_SCREENSHOTS=1 in the environment (to
refresh the pictures the docs show), else the test's own temporary directory (a test run leaves the
checkout as it was)."""

from __future__ import annotations

import os
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot_path(name: str, tmp_path: Path) -> Path:
    return (DOCS if os.environ.get("AGGREGATOR_SCREENSHOTS") else tmp_path) / name
