"""Every account in the status bar: the presence it shows, its connection state, the reason when it is down.

An account that failed on an untrusted certificate gets a "Certificate problem — review…" button;
the certificate dialog also opens by itself, once, when that failure happens while the window is open.
An account that trusts a pinned certificate shows a warning for as long as the pin holds, whatever its
state: that account's server is not verified by a CA.

A down account says why in a sentence a person understands (``aggregator.app.failures``): its "Why?"
link opens a popup with the sentence and the server's raw condition in the details.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from aggregator.api import AccountId, CertificateDetails, Presence
from aggregator.app.failures import FailureExplanation, explain, state_phrase
from aggregator.app.rows import AccountRow
from aggregator.events import AccountStateChanged, ConnectionState
from aggregator.presence.events import OwnStatusChanged
from ui.certificate_dialog import CertificateDialog, review_certificate
from ui.context import UiContext
from ui.first_run import ACCOUNTS_MENU
from ui.icons import PRESENCE_COLORS

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
        self._shown: dict[AccountId, Presence] = {}
        self._label = QLabel()
        self._label.setAccessibleName("Accounts")
        self._label.setTextFormat(Qt.TextFormat.RichText)  # names and reasons are escaped in _render
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self._label.linkActivated.connect(self._link_activated)
        self._label.setMinimumWidth(1)  # its text adapts to the width (_fit): never a minimum of its own
        self.failure_popup: QMessageBox | None = None
        self._full_text = ""
        self._compact_texts: tuple[str, ...] = ()
        self.review_buttons: dict[AccountId, QPushButton] = {}
        self.pin_warnings: dict[AccountId, QLabel] = {}
        self._auto_shown: set[tuple[AccountId, str]] = set()
        self._layout = layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._label)
        layout.addStretch()  # the buttons and warnings follow the accounts they are about
        ctx.bridge.account_state.connect(self._on_state)
        ctx.bridge.own_status.connect(self._on_own_status)
        ctx.bridge.accounts_changed.connect(lambda _e: self.reload())  # added, renamed, removed, (dis)abled
        self.reload()

    def reload(self) -> None:
        self._ctx.bridge.run(self._ctx.app.accounts_and_shown, self._loaded)

    def _loaded(
        self, result: tuple[list[AccountRow], dict[AccountId, Presence]] | None, _error: BaseException | None
    ) -> None:
        rows, shown = result or ([], {})
        self._rows = {r.id: r for r in rows}
        # The rows were read just now: a remembered event that disagrees (a disabled account's last
        # "offline", a removed account) is older; one that agrees keeps its reason and retry time.
        self._states = {a: e for a, e in self._states.items() if a in self._rows and self._rows[a].state is e.state}
        self._shown.update(shown)
        self._render()

    def _on_own_status(self, event: OwnStatusChanged) -> None:
        self._shown = dict(event.shown)
        self._render()

    def presence_text(self, account_id: AccountId) -> str:
        """What the account shows (or would show once connected): ``busy: in a meeting``."""
        presence = self._shown.get(account_id)
        if presence is None:
            return ""
        return presence.kind.value + (f": {presence.status}" if presence.status else "")

    def _on_state(self, event: AccountStateChanged) -> None:
        self._states[event.account_id] = event
        if event.account_id not in self._rows:
            self.reload()
        self._render()
        certificate = event.certificate
        if event.state is ConnectionState.FAILED and certificate is not None and self.window().isVisible():
            key = (event.account_id, certificate.fingerprint_sha256)
            if key not in self._auto_shown:  # once per certificate: Cancel is respected
                self._auto_shown.add(key)
                self.review(event.account_id)

    def certificate_of(self, account_id: AccountId) -> CertificateDetails | None:
        """The untrusted certificate the account is FAILED on now, if any."""
        event = self._states.get(account_id)
        if event is not None:
            return event.certificate if event.state is ConnectionState.FAILED else None
        row = self._rows.get(account_id)
        return row.certificate if row is not None else None

    def review(self, account_id: AccountId) -> CertificateDialog | None:
        """Open the certificate dialog for this account (None when it has no certificate problem)."""
        certificate = self.certificate_of(account_id)
        if certificate is None:
            return None
        row = self._rows.get(account_id)
        return review_certificate(self._ctx, account_id, row.name if row else account_id, certificate, self.window())

    def _render_review_buttons(self) -> None:
        wanted = {a for a in self._rows if self.certificate_of(a) is not None}
        for account_id in set(self.review_buttons) - wanted:
            self.review_buttons.pop(account_id).deleteLater()
        for account_id in sorted(wanted - set(self.review_buttons)):
            name = self._rows[account_id].name
            button = QPushButton(f"{name}: Certificate problem — review…")
            button.setAccessibleName(f"Review the certificate of {name}")
            button.setToolTip("The server presented a certificate that is not trusted: see it and decide")
            button.setStyleSheet("color: #cc2b2b")
            button.clicked.connect(lambda _checked=False, a=account_id: self.review(a))
            self._layout.insertWidget(self._layout.count() - 1, button)
            self.review_buttons[account_id] = button

    def _render_pin_warnings(self) -> None:
        wanted = {a: r.pinned_warning for a, r in self._rows.items() if r.pinned_warning is not None}
        for account_id in set(self.pin_warnings) - set(wanted):
            self.pin_warnings.pop(account_id).deleteLater()
        for account_id, warning in sorted(wanted.items()):
            name = self._rows[account_id].name
            label = self.pin_warnings.get(account_id)
            if label is None:
                label = QLabel()
                label.setTextFormat(Qt.TextFormat.PlainText)  # the account's name is the user's text
                label.setStyleSheet("color: #b35c00; font-weight: bold")
                self._layout.insertWidget(self._layout.count() - 1, label)
                self.pin_warnings[account_id] = label
            label.setText(f"⚠ {name}: pinned certificate, not verified")
            tip = f"{name} {warning}. Any other certificate is refused."
            label.setToolTip(tip)
            label.setAccessibleName(f"Warning: {name} trusts a pinned certificate")
            label.setAccessibleDescription(tip)

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

    def failure(self, account_id: AccountId) -> FailureExplanation | None:
        """Why the account is down, explained; None when it is up or nothing was said."""
        row = self._rows.get(account_id)
        event = self._states.get(account_id)
        state = event.state if event else (row.state if row else ConnectionState.OFFLINE)
        reason = event.reason if event is not None else (row.reason if row is not None else "")
        if state is ConnectionState.CONNECTED or not reason:
            return None
        return explain(reason)

    def _link_activated(self, link: str) -> None:
        scheme, _sep, account_id = link.partition(":")
        if scheme == "why":
            self.show_failure(html.unescape(account_id))

    def show_failure(self, account_id: AccountId) -> QMessageBox | None:
        """A popup with the whole reason: the sentence, and the raw condition under "Show Details"."""
        explained = self.failure(account_id)
        if explained is None:
            return None
        row = self._rows.get(account_id)
        name = row.name if row is not None else account_id
        state = self.state_text(account_id).partition(":")[0]
        if self.failure_popup is not None:
            self.failure_popup.close()
        popup = QMessageBox(QMessageBox.Icon.Warning, f"{name}: {state}", "", QMessageBox.StandardButton.Close, self)
        popup.setTextFormat(Qt.TextFormat.PlainText)  # the reason comes from the server
        popup.setText(f"{name} {state_phrase(state)}. {explained.sentence}")
        if explained.details:
            popup.setDetailedText(f"What the server or the connection said:\n{explained.details}")
        popup.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        popup.open()
        self.failure_popup = popup
        return popup

    def summary_text(self, account_id: AccountId) -> str:
        """What the strip says about one account: the presence it shows when connected, else its
        connection state (never both: "available · failed" contradicts itself)."""
        row = self._rows.get(account_id)
        event = self._states.get(account_id)
        state = event.state if event else (row.state if row else ConnectionState.OFFLINE)
        shows = self.presence_text(account_id)
        if state is ConnectionState.CONNECTED:
            return shows or state.value
        text = state.value
        if event is not None and event.retry_in is not None and state is ConnectionState.WAITING:
            text += f" (retrying in {event.retry_in:.0f} s)"
        return text

    def _fit(self) -> None:
        """The whole summary when it fits, else a compact one (names, and the state of those down), else
        a dot per connected account and the names of those down: a narrow window (a buddy list docked
        at the screen's edge) is not held wide by the strip. The tooltip says everything."""
        if not self._full_text:
            return
        others = [*self.review_buttons.values(), *self.pin_warnings.values()]
        room = self.width() - sum(w.sizeHint().width() + self._layout.spacing() for w in others)
        self._label.setText(self._full_text)
        for shorter in self._compact_texts:
            if self._label.sizeHint().width() <= room:
                break
            self._label.setText(shorter)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _render(self) -> None:
        self._render_review_buttons()
        self._render_pin_warnings()
        if not self._rows:
            self._label.setText(f"No account yet: add one in {ACCOUNTS_MENU}")
            return
        parts = []
        compact = []
        tiny = []
        tips = []
        for account_id, row in self._rows.items():
            event = self._states.get(account_id)
            state = event.state if event else row.state
            presence = self._shown.get(account_id)
            if state is ConnectionState.CONNECTED and presence is not None:
                color = PRESENCE_COLORS[presence.kind]
            else:
                color = STATE_COLORS.get(state, "#808080")
            shows = self.presence_text(account_id)
            summary = self.summary_text(account_id)
            explained = self.failure(account_id)
            why = f' <a href="why:{html.escape(account_id)}">Why?</a>' if explained is not None else ""
            dot = f'<span style="color:{color}">●</span>'
            parts.append(f"{dot} {html.escape(row.name)}: {html.escape(summary)}{why}")
            down = "" if state is ConnectionState.CONNECTED else f": {html.escape(state.value)}{why}"
            compact.append(f"{dot} {html.escape(row.name)}{down}")
            tiny.append(f"{dot} {html.escape(row.name)}{down}" if down else dot)
            pinned = f"; WARNING: it {row.pinned_warning}" if row.pinned_warning else ""
            if state is ConnectionState.CONNECTED:
                tips.append(f"{row.name} ({row.protocol}): connected, shows {shows or 'nothing yet'}{pinned}")
            else:
                said = f": {explained.full}" if explained is not None else ""
                later = f" (will show {shows} once connected)" if shows else ""
                tips.append(f"{row.name} ({row.protocol}): {summary}{said}{later}{pinned}")
        self._full_text = "&nbsp;&nbsp;&nbsp;".join(parts)
        self._compact_texts = ("&nbsp;&nbsp;".join(compact), "&nbsp;".join(tiny))
        self._fit()
        self._label.setToolTip("\n".join(tips))
        self._label.setAccessibleDescription("; ".join(tips))
