"""Preferences (menu "Preferences…", Ctrl+,): auto-away, work hours, logging, retention, connection.

The values come from the core in one snapshot (engine thread); changes go back through the bridge and
the core checks them (``Preferences.set``: bad values and the organisation's locks are refused, with the
reason shown here). Settings the policy locks are shown disabled, with "Locked by your organisation: …".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import time

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import PresenceKind, Sphere
from aggregator.app.preferences import BookChange, PrefsSnapshot
from aggregator.app.types import SECONDS_KEYS, SettingView, Source, StatusBook
from ui.context import UiContext
from ui.session_start import SessionStartBox

log = logging.getLogger(__name__)

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
QUIET_KINDS = (
    (PresenceKind.AWAY, "Away"),
    (PresenceKind.BUSY, "Busy"),
    (PresenceKind.INVISIBLE, "Invisible"),
    (PresenceKind.OFFLINE, "Offline"),
)
SECONDS_LABELS = {
    "reconnect_initial_delay": "First reconnection wait",
    "reconnect_max_delay": "Longest reconnection wait",
    "connect_timeout": "Connection timeout",
}
SPHERE_LABELS = {Sphere.WORK: "Work", Sphere.PERSONAL: "Personal"}
LOCKED_PREFIX = "Locked by your organisation: "


def lock_text(reason: str) -> str:
    """ "Locked by your organisation: …" without saying "the organisation's policy" twice."""
    for said, now in (
        ("locked by the organisation's policy", "policy file"),
        ("the organisation's policy requires ", "it requires "),
    ):
        if reason.startswith(said):
            return LOCKED_PREFIX + (now + reason[len(said) :]).strip()
    return LOCKED_PREFIX + reason


def _qtime(value: time) -> QTime:
    return QTime(value.hour, value.minute)


def _time(value: QTime) -> time:
    return time(value.hour(), value.minute())


class PreferencesDialog(QDialog):
    #: Emitted after changes were applied (the text of the outcome).
    applied = Signal(str)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None, *, profile_args: Sequence[str] = ()) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.snapshot: PrefsSnapshot | None = None
        self.session_start = SessionStartBox(profile_args)
        self.setWindowTitle("Preferences")
        self.setAccessibleName("Preferences")
        self.setMinimumWidth(600)
        self.locked_labels: dict[str, QLabel] = {}

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Preference pages")
        self.tabs.addTab(self._status_page(), "&Status")
        self.tabs.addTab(self._logging_page(), "&Logging")
        self.tabs.addTab(self._connection_page(), "&Connection")

        self.message = QLabel()
        self.message.setAccessibleName("Preferences message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")
        self.message.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply
        )
        for button, name in (
            (QDialogButtonBox.StandardButton.Ok, "Save preferences and close"),
            (QDialogButtonBox.StandardButton.Cancel, "Close without saving"),
            (QDialogButtonBox.StandardButton.Apply, "Apply preferences"),
        ):
            self.buttons.button(button).setAccessibleName(name)
        self.buttons.accepted.connect(lambda: self.apply(close=True))
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(lambda: self.apply(close=False))

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setEnabled(False)  # until the values are loaded
        self.reload()

    # -- pages ------------------------------------------------------------------------------------------

    def _status_page(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)

        away = QGroupBox("Auto-away")
        form = QFormLayout(away)
        self.auto_away = QCheckBox("Show me as away when I am idle")
        self.auto_away.setAccessibleName("Auto-away")
        self.away_minutes = QSpinBox()
        self.away_minutes.setRange(1, 720)
        self.away_minutes.setSuffix(" min")
        self.away_minutes.setAccessibleName("Minutes idle before away")
        self.auto_away.toggled.connect(self.away_minutes.setEnabled)
        form.addRow(self.auto_away)
        form.addRow("Idle for:", self.away_minutes)
        column.addWidget(away)

        hours = QGroupBox("Work hours")
        hours_form = QFormLayout(hours)
        self.work_hours = QCheckBox("Use work hours")
        self.work_hours.setAccessibleName("Use work hours")
        explain = QLabel(
            "During work hours your personal accounts show the status below and their notifications wait; "
            "outside them your work accounts do."
        )
        explain.setWordWrap(True)
        days_row = QHBoxLayout()
        self.day_boxes: list[QCheckBox] = []
        for short, name in zip(DAYS, DAY_NAMES, strict=True):
            box = QCheckBox(short)
            box.setAccessibleName(f"Work on {name}")
            self.day_boxes.append(box)
            days_row.addWidget(box)
        days_row.addStretch(1)
        self.hours_from = QTimeEdit()
        self.hours_from.setDisplayFormat("HH:mm")
        self.hours_from.setAccessibleName("Work starts at")
        self.hours_to = QTimeEdit()
        self.hours_to.setDisplayFormat("HH:mm")
        self.hours_to.setAccessibleName("Work ends at")
        span = QHBoxLayout()
        span.addWidget(self.hours_from)
        span.addWidget(QLabel("to"))
        span.addWidget(self.hours_to)
        span.addStretch(1)
        self.quiet_kind = QComboBox()
        self.quiet_kind.setAccessibleName("Off-duty accounts show")
        for kind, label in QUIET_KINDS:
            self.quiet_kind.addItem(label, kind.value)
        hours_form.addRow(self.work_hours)
        hours_form.addRow(explain)
        hours_form.addRow("Days:", days_row)
        hours_form.addRow("Hours:", span)
        hours_form.addRow("Off-duty accounts show:", self.quiet_kind)
        self._hours_widgets: list[QWidget] = [*self.day_boxes, self.hours_from, self.hours_to, self.quiet_kind]
        self.work_hours.toggled.connect(self._enable_hours)
        column.addWidget(hours)
        column.addWidget(self.session_start)
        column.addStretch(1)
        return page

    def _enable_hours(self, on: bool) -> None:
        for w in self._hours_widgets:
            w.setEnabled(on)

    def _logging_page(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        kept = QGroupBox("Keep conversations in the archive")
        self._logging_form = QFormLayout(kept)
        explain = QLabel(
            "When logging is off, messages are shown while Aggregator runs and removed from the archive "
            "when it stops; they are never searched or exported afterwards."
        )
        explain.setWordWrap(True)
        self._logging_form.addRow(explain)
        self.logging_boxes: dict[str, QCheckBox] = {}
        for sphere in Sphere:
            box = QCheckBox(f"Log {SPHERE_LABELS[sphere].lower()} accounts")
            box.setAccessibleName(f"Log {SPHERE_LABELS[sphere].lower()} accounts")
            self.logging_boxes[f"logging.{sphere.value}"] = box
            self._logging_form.addRow(box)
            self._add_lock_label(f"logging.{sphere.value}", self._logging_form)
        self._accounts_at = self._logging_form.rowCount()
        column.addWidget(kept)

        keep = QGroupBox("Delete old messages")
        keep_form = QFormLayout(keep)
        self.retention_boxes: dict[str, QSpinBox] = {}
        for sphere in Sphere:
            spin = QSpinBox()
            spin.setRange(0, 100_000)
            spin.setSuffix(" days")
            spin.setSpecialValueText("Keep forever")
            spin.setAccessibleName(f"Keep {SPHERE_LABELS[sphere].lower()} messages for days (0: forever)")
            key = f"retention_days.{sphere.value}"
            self.retention_boxes[key] = spin
            keep_form.addRow(f"{SPHERE_LABELS[sphere]} messages:", spin)
            limit = QLabel()
            limit.setWordWrap(True)
            limit.setAccessibleName(f"{SPHERE_LABELS[sphere]} retention limit")
            limit.hide()
            self.locked_labels[key] = limit
            keep_form.addRow(limit)
        column.addWidget(keep)
        column.addStretch(1)
        return page

    def _connection_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.seconds_boxes: dict[str, QDoubleSpinBox] = {}
        for key in SECONDS_KEYS:
            spin = QDoubleSpinBox()
            spin.setRange(0.1, 3600.0)
            spin.setDecimals(1)
            spin.setSuffix(" s")
            spin.setAccessibleName(SECONDS_LABELS[key])
            self.seconds_boxes[key] = spin
            form.addRow(f"{SECONDS_LABELS[key]}:", spin)
            self._add_lock_label(key, form)
        note = QLabel("Connection settings apply the next time Aggregator starts.")
        note.setWordWrap(True)
        form.addRow(note)
        return page

    def _add_lock_label(self, key: str, form: QFormLayout) -> None:
        label = QLabel()
        label.setWordWrap(True)
        label.setAccessibleName(f"Why {key} is locked")
        label.setStyleSheet("color: #7a4b00;")
        label.hide()
        self.locked_labels[key] = label
        form.addRow(label)

    # -- loading ----------------------------------------------------------------------------------------

    def reload(self) -> None:
        self.session_start.reload()
        self._ctx.bridge.run(self._ctx.app.preferences, self._loaded)

    def _loaded(self, snapshot: PrefsSnapshot | None, error: BaseException | None) -> None:
        if snapshot is None:
            self.show_message(f"Cannot load the preferences: {error}")
            return
        self.snapshot = snapshot
        self._fill_status(snapshot.book)
        self._fill_accounts(snapshot)
        for key, box in self.logging_boxes.items():
            self._show_setting(key, box, snapshot.views[key])
        for key, spin in self.retention_boxes.items():
            self._show_retention(key, spin, snapshot)
        for key, dspin in self.seconds_boxes.items():
            self._show_setting(key, dspin, snapshot.views[key])
        self.setEnabled(True)
        self._fit_pages()

    def _fit_pages(self) -> None:
        """A tab widget sizes itself by its pages' plain size hints, which squeezes wrapped labels on the
        pages not shown: make room for the tallest page at the dialog's width."""
        width = max(self.width(), self.minimumWidth()) - 40
        tallest = 0
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            layout = page.layout() if page is not None else None
            if layout is not None:
                tallest = max(tallest, layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else 0)
                tallest = max(tallest, layout.totalSizeHint().height())
        self.tabs.setMinimumHeight(tallest + self.tabs.tabBar().sizeHint().height() + 16)
        self.adjustSize()

    def _show_retention(self, key: str, spin: QSpinBox, snapshot: PrefsSnapshot) -> None:
        """The days in force: with a policy maximum, "keep forever" is not on offer and more is refused."""
        days = int(snapshot.views[key].value)
        limit = snapshot.retention_limits.get(key)
        label = self.locked_labels[key]
        if limit is None:
            spin.setRange(0, 100_000)
            spin.setValue(days)
            label.hide()
            return
        spin.setRange(1, limit)
        spin.setValue(min(days, limit) if days else limit)
        text = f"Limited by your organisation: messages older than {limit} days are deleted."
        spin.setToolTip(text)
        spin.setAccessibleDescription(text)
        label.setText(text)
        label.show()

    def _fill_status(self, book: StatusBook) -> None:
        self.auto_away.setChecked(book.auto_away_minutes > 0)
        self.away_minutes.setValue(int(book.auto_away_minutes) if book.auto_away_minutes > 0 else 10)
        self.away_minutes.setEnabled(book.auto_away_minutes > 0)
        hours = book.work_hours
        for day, box in enumerate(self.day_boxes):
            box.setChecked(day in hours.days if hours.enabled else day < 5)
        first = next(iter(sorted(hours.days.items())), None)
        start, end = first[1] if first else (time(9, 0), time(17, 0))
        self.hours_from.setTime(_qtime(start))
        self.hours_to.setTime(_qtime(end))
        index = self.quiet_kind.findData(hours.quiet_kind.value)
        self.quiet_kind.setCurrentIndex(max(index, 0))
        self.work_hours.setChecked(hours.enabled)
        self._enable_hours(hours.enabled)

    def _fill_accounts(self, snapshot: PrefsSnapshot) -> None:
        while self._logging_form.rowCount() > self._accounts_at:
            self._logging_form.removeRow(self._accounts_at)
        for key in [k for k in self.logging_boxes if k.startswith("logging.account.")]:
            del self.logging_boxes[key]
            self.locked_labels.pop(key, None)
        if snapshot.accounts:
            heading = QLabel("Each account (overrides its sphere):")
            self._logging_form.addRow(heading)
        for account in snapshot.accounts:
            key = f"logging.account.{account.id}"
            box = QCheckBox(f"Log {account.label} ({account.sphere.value})")
            box.setAccessibleName(f"Log {account.label}")
            box.setToolTip(account.id)
            self.logging_boxes[key] = box
            self._logging_form.addRow(box)
            self._add_lock_label(key, self._logging_form)

    def _show_setting(self, key: str, widget: QWidget, view: SettingView) -> None:
        if isinstance(widget, QAbstractButton):
            widget.setChecked(bool(view.value))
        elif isinstance(widget, QDoubleSpinBox):
            widget.setValue(float(view.value))
        locked = view.source is Source.LOCKED
        widget.setEnabled(not locked)
        label = self.locked_labels[key]
        if locked:
            text = lock_text(view.reason)
            widget.setToolTip(text)
            widget.setAccessibleDescription(text)
            label.setText(text)
        label.setVisible(locked)

    # -- applying ---------------------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def changed_settings(self) -> list[tuple[str, str]]:
        """The settings whose control differs from the loaded value, as (key, text) for the core."""
        assert self.snapshot is not None
        views = self.snapshot.views
        changes: list[tuple[str, str]] = []
        for key, box in self.logging_boxes.items():
            if box.isEnabled() and key in views and box.isChecked() != bool(views[key].value):
                changes.append((key, "on" if box.isChecked() else "off"))
        for key, spin in self.retention_boxes.items():
            limit = self.snapshot.retention_limits.get(key)
            shown = int(views[key].value)
            shown = min(shown, limit) if shown and limit else (limit or shown)
            if spin.value() != shown:
                changes.append((key, str(spin.value())))
        for key, dspin in self.seconds_boxes.items():
            if dspin.isEnabled() and abs(dspin.value() - float(views[key].value)) > 1e-9:
                changes.append((key, f"{dspin.value():g}"))
        return changes

    def book_change(self) -> BookChange:
        """What the status page says, as a change of the core's current status book (``ValueError``
        with the reason for input that makes no sense)."""
        minutes = float(self.away_minutes.value()) if self.auto_away.isChecked() else 0.0
        days: dict[int, tuple[time, time]] = {}
        if self.work_hours.isChecked():
            start, end = _time(self.hours_from.time()), _time(self.hours_to.time())
            if end <= start:
                raise ValueError("Work hours must end after they start.")
            chosen = [d for d, box in enumerate(self.day_boxes) if box.isChecked()]
            if not chosen:
                raise ValueError("Choose at least one work day, or turn work hours off.")
            days = dict.fromkeys(chosen, (start, end))
        quiet = PresenceKind(str(self.quiet_kind.currentData()))

        def change(book: StatusBook) -> StatusBook:
            hours = replace(book.work_hours, days=days, quiet_kind=quiet)
            return replace(book, auto_away_minutes=minutes, work_hours=hours)

        return change

    def apply(self, *, close: bool) -> None:
        if self.snapshot is None:
            return
        try:
            book = self.book_change()
        except ValueError as exc:
            self.show_message(str(exc))
            return
        settings = self.changed_settings()
        self.buttons.setEnabled(False)
        autostart_problem = self.session_start.apply()

        def done(errors: list[str] | None, error: BaseException | None) -> None:
            self.buttons.setEnabled(True)
            problems = list(errors or []) + ([str(error)] if error else [])
            problems += [autostart_problem] if autostart_problem else []
            if problems:
                self.show_message("Not saved: " + "\n".join(problems))
                self.reload()
                return
            self.show_message("")
            self.applied.emit("saved")
            if close:
                self.accept()
            else:
                self.reload()

        self._ctx.bridge.call(self._ctx.app.apply_preferences(settings, book), done)
