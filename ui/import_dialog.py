"""Import history… (menu): another client's logs into the archive, with progress and a summary.

The import runs on the engine thread (``aggregator.archive.importers.session.import_history``, started
through the bridge) a few files at a time; its progress crosses back as a queued Qt signal and the
summary is the one the CLI prints. The formats come from the core's registry.
"""

from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import AggregatorError
from aggregator.app.types import ImportOutcome, ImportProgress, ReadOptions
from aggregator.app.types import import_formats as formats
from ui.context import UiContext

log = logging.getLogger(__name__)


class ImportDialog(QDialog):
    #: Emitted on the engine thread, delivered on the GUI thread (queued: the dialog lives there).
    progressed = Signal(object)  # ImportProgress
    #: The outcomes of the last import (a list of ImportOutcome), or the error text.
    finished_import = Signal(object)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.running = False
        self.outcomes: list[ImportOutcome] | None = None
        self.setWindowTitle("Import history")
        self.resize(640, 460)

        self.client = QComboBox()
        self.client.addItem("Recognise automatically", "auto")
        for fmt in formats().values():
            self.client.addItem(fmt.title, fmt.name)
            self.client.setItemData(self.client.count() - 1, fmt.description, Qt.ItemDataRole.ToolTipRole)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("the folder that holds the logs (e.g. ~/.purple/logs)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.names = QLineEdit()
        self.names.setPlaceholderText("optional: names you wrote under, separated by commas")
        self.zone = QLineEdit()
        self.zone.setPlaceholderText("this computer's time zone (or e.g. Europe/Berlin)")

        form = QFormLayout()
        form.addRow("&Client:", self.client)
        folder_label = QLabel("&Folder:")
        folder_label.setBuddy(self.folder)
        form.addRow(folder_label, folder_row)
        form.addRow("&Your names:", self.names)
        form.addRow("&Time zone:", self.zone)

        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status = QLabel("Choose a folder, then Import.")
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.summary.setFont(mono)
        self.summary.setPlaceholderText("The summary appears here: what was imported, skipped, and why.")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.import_button = self.buttons.addButton("&Import", QDialogButtonBox.ButtonRole.ActionRole)
        self.import_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.buttons)
        self.progressed.connect(self._show_progress)
        self.finished_import.connect(self._show_outcome)

    def _browse(self) -> None:
        start = self.folder.text() or str(Path.home())
        chosen = QFileDialog.getExistingDirectory(self, "The folder of the logs", start)
        if chosen:
            self.folder.setText(chosen)

    def _options(self) -> ReadOptions | str:
        zone_name = self.zone.text().strip()
        zone = None
        if zone_name:
            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                return f"Unknown time zone {zone_name!r}: use a name like Europe/Berlin or UTC."
        names = tuple(n.strip() for n in self.names.text().split(",") if n.strip())
        return ReadOptions(me=names, zone=zone)

    def start(self) -> None:
        """Import the chosen folder (on the engine thread); the summary replaces the old one."""
        if self.running:
            return
        options = self._options()
        if isinstance(options, str):
            self.status.setText(options)
            return
        text = self.folder.text().strip()
        if not text:
            self.status.setText("Choose the folder that holds the logs.")
            return
        directory = Path(text).expanduser()
        name = str(self.client.currentData())
        self.running = True
        self.outcomes = None
        self.import_button.setEnabled(False)
        self.summary.clear()
        self.bar.setRange(0, 0)  # busy until the first file is counted
        self.status.setText(f"Looking at {directory}…")
        emit_progress = self.progressed.emit
        self._ctx.bridge.call(self._ctx.app.import_history(directory, name, options, emit_progress), self._done)

    def _done(self, outcomes: list[ImportOutcome] | None, error: BaseException | None) -> None:
        if error is not None:
            if not isinstance(error, AggregatorError):
                log.error("The import failed", exc_info=error)
            self.finished_import.emit(str(error) or type(error).__name__)
        else:
            self.finished_import.emit(outcomes or [])

    def _show_progress(self, progress: ImportProgress) -> None:
        self.bar.setRange(0, max(1, progress.files_total))
        self.bar.setValue(progress.files_done)
        self.status.setText(progress.text())

    def _show_outcome(self, result: list[ImportOutcome] | str) -> None:
        self.running = False
        self.import_button.setEnabled(True)
        if isinstance(result, str):
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.status.setText(f"Nothing imported: {result}")
            return
        self.outcomes = result
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        new = sum(o.summary.inserted for o in result)
        known = sum(o.summary.duplicates for o in result)
        self.status.setText(f"Done: {new:,} new messages, {known:,} already in the archive.")
        self.summary.setPlainText("\n\n".join("\n".join(o.lines) for o in result))
