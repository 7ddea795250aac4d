"""Whether typed text looks like an address someone could be written to at (the filter and the quick
switcher offer "Message ADDRESS…" for one that matches nobody)."""

from __future__ import annotations

import re

#: user@domain.tld (XMPP, e-mail-like), @user:server.tld (Matrix).
_ADDRESS = re.compile(r"^[^\s@:/]+@[^\s@/]+\.[^\s@/]+$|^@[^\s:]+:[^\s:]+\.[^\s:]+$")


def looks_like_address(text: str) -> bool:
    return bool(_ADDRESS.match(text.strip()))
