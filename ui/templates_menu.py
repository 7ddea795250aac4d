"""The "Templates" button beside Send: insert a named standard reply, or save the current text as one.

The organisation's templates come from the policy and are marked; the user's own are kept by
``aggregator.templates.TemplateStore`` (read and written on the engine thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtWidgets import QInputDialog, QMenu, QToolButton, QWidget

from aggregator.app.types import Template, TemplateSource
from ui.composer import Composer
from ui.context import UiContext

log = logging.getLogger(__name__)

PREVIEW = 40


def _preview(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= PREVIEW else line[: PREVIEW - 1] + "…"


class TemplatesButton(QToolButton):
    def __init__(self, ctx: UiContext, composer: Composer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._composer = composer
        self.templates: list[Template] = []
        self.name_dialog: QInputDialog | None = None
        self.setText("Templates")
        self.setAccessibleName("Templates")
        self.setToolTip("Insert a standard reply, or save the current text as one (/t NAME inserts one too)")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_ = QMenu(self)
        self.menu_.setAccessibleName("Templates")
        self.setMenu(self.menu_)
        self.menu_.aboutToShow.connect(self.reload)
        self._build()
        self.reload()

    def reload(self, then: Callable[[], None] | None = None) -> None:
        app = self._ctx.app

        def done(templates: list[Template] | None, error: BaseException | None) -> None:
            if error is not None or templates is None:
                log.warning("Could not read the templates: %s", error)
                self._composer.show_error(f"Templates unavailable: {error}")
                return
            self.templates = templates
            self._build()
            if then is not None:
                then()

        self._ctx.bridge.run(app.templates, done)

    def _build(self) -> None:
        menu = self.menu_
        menu.clear()
        for template in self.templates:
            mark = " (organisation)" if template.source is TemplateSource.ORGANISATION else ""
            action = menu.addAction(f"{template.name}{mark}: {_preview(template.text)}")
            action.setToolTip(template.text)
            action.triggered.connect(lambda _checked=False, t=template: self.insert(t))
        if not self.templates:
            menu.addAction("No templates yet").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Add current text as template…").triggered.connect(self.ask_name)

    def insert(self, template: Template) -> None:
        self._composer.input.insertPlainText(template.text)
        self._composer.input.setFocus()

    def ask_name(self) -> None:
        text = self._composer.text()
        if not text.strip():
            self._composer.show_error("Write the text first, then add it as a template.")
            return
        dialog = QInputDialog(self.window())
        dialog.setWindowTitle("Add template")
        dialog.setLabelText("Name of the new template (insert it later with /t NAME):")
        dialog.setAccessibleName("Template name")
        dialog.textValueSelected.connect(lambda name: self.save(name, text))
        self.name_dialog = dialog
        dialog.open()

    def save(self, name: str, text: str) -> None:
        app = self._ctx.app

        def done(saved: Template | None, error: BaseException | None) -> None:
            if error is not None or saved is None:
                self._composer.show_error(f"Template not saved: {error}")
                return
            self._composer.clear_error()
            self.reload()

        self._ctx.bridge.run(lambda: app.add_template(name, text), done)
