"""The user's own status, for every account at once (per sphere and per account can come later)."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QComboBox, QWidget

from aggregator.api import Presence, PresenceKind
from ui.context import UiContext
from ui.icons import presence_icon

log = logging.getLogger(__name__)

CHOICES = (
    (PresenceKind.AVAILABLE, "Available"),
    (PresenceKind.AWAY, "Away"),
    (PresenceKind.EXTENDED_AWAY, "Extended away"),
    (PresenceKind.BUSY, "Busy"),
    (PresenceKind.INVISIBLE, "Invisible"),
)


class StatusSelector(QComboBox):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setAccessibleName("My status")
        self.setToolTip("Your status on every account")
        for kind, label in CHOICES:
            self.addItem(presence_icon(kind), label, kind.value)
        core = ctx.core
        ctx.bridge.run(lambda: core.status.book.global_status, self._loaded)
        self.activated.connect(self._chosen)

    def _loaded(self, presence: Presence | None, _error: BaseException | None) -> None:
        if presence is not None:
            index = self.findData(presence.kind.value)
            if index >= 0:
                self.setCurrentIndex(index)

    def set_kind(self, kind: PresenceKind) -> None:
        index = self.findData(kind.value)
        if index >= 0:
            self.setCurrentIndex(index)
            self._chosen(index)

    def _chosen(self, index: int) -> None:
        kind = PresenceKind(str(self.itemData(index)))
        self._ctx.bridge.call(
            self._ctx.core.status.set_status(Presence(kind)),
            lambda _r, err: log.warning("Could not set the status: %s", err) if err else None,
        )
