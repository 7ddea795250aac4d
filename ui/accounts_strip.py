"""The connection state of every account, with the reason when one is down (in the status bar)."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from aggregator.api import AccountId
from aggregator.events import AccountStateChanged, ConnectionState
from ui.context import UiContext
from ui.rows import AccountRow, all_accounts

STATE_COLORS = {
    ConnectionState.CONNECTED: "#2e9d3a",
    ConnectionState.CONNECTING: "#e0a100",
    ConnectionState.WAITING: "#c46a00",
    ConnectionState.FAILED: "#cc2b2b",
    ConnectionState.OFFLINE: "#808080",
    ConnectionState.DISABLED: "#808080",
}


class AccountsStrip(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._rows: dict[AccountId, AccountRow] = {}
        self._states: dict[AccountId, AccountStateChanged] = {}
        self._label = QLabel()
        self._label.setAccessibleName("Accounts")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._label)
        ctx.bridge.account_state.connect(self._on_state)
        self.reload()

    def reload(self) -> None:
        core = self._ctx.core
        self._ctx.bridge.run(lambda: all_accounts(core), self._loaded)

    def _loaded(self, rows: list[AccountRow] | None, _error: BaseException | None) -> None:
        self._rows = {r.id: r for r in rows or []}
        self._render()

    def _on_state(self, event: AccountStateChanged) -> None:
        self._states[event.account_id] = event
        if event.account_id not in self._rows:
            self.reload()
        self._render()

    def state_text(self, account_id: AccountId) -> str:
        row = self._rows.get(account_id)
        event = self._states.get(account_id)
        state = event.state if event else (row.state if row else ConnectionState.OFFLINE)
        text = state.value
        if event is not None and event.reason and state is not ConnectionState.CONNECTED:
            text += f": {event.reason}"
        if event is not None and event.retry_in is not None and state is ConnectionState.WAITING:
            text += f" (retrying in {event.retry_in:.0f} s)"
        return text

    def _render(self) -> None:
        if not self._rows:
            self._label.setText("No account yet: Accounts → Add account…")
            return
        parts = []
        tips = []
        for account_id, row in self._rows.items():
            event = self._states.get(account_id)
            state = event.state if event else row.state
            color = STATE_COLORS.get(state, "#808080")
            text = self.state_text(account_id)
            parts.append(f'<span style="color:{color}">●</span> {html.escape(row.name)}: {html.escape(text)}')
            tips.append(f"{row.name} ({row.protocol}): {text}")
        self._label.setText("&nbsp;&nbsp;&nbsp;".join(parts))
        self._label.setToolTip("\n".join(tips))
