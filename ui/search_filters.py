"""The log viewer's filters beside the search box: person, account, sphere, and an optional day range.

``filters()`` turns them into ``SearchFilters`` (a person as its exact contacts, an account by id), or
raises ``FilterError`` with a message for the status line (a person name that matches nobody).
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QCompleter, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QWidget

from aggregator.api import Sphere
from aggregator.app.search_rows import FilterChoices, PersonChoice
from aggregator.app.types import SearchFilters

ANYONE = "Anyone"


class FilterError(ValueError):
    """A filter control holds something that selects nothing; the message says what. ``partial``: the
    user is still typing a name that some persons' names contain (a hint, not an error)."""

    def __init__(self, message: str, *, partial: bool = False) -> None:
        super().__init__(message)
        self.partial = partial


def _to_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class FilterBar(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._persons: list[PersonChoice] = []

        self.person = QComboBox()
        self.person.setEditable(True)
        self.person.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.person.setAccessibleName("Person")
        self.person.setToolTip("Only the conversations with this person (type to find a name)")
        self.person.setMinimumContentsLength(12)
        self.person.addItem(ANYONE, None)
        person_edit = self.person.lineEdit()
        assert person_edit is not None  # an editable combo box has one
        person_edit.setAccessibleName("Person")
        completer = self.person.completer()
        assert completer is not None  # an editable combo box has one
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)

        self.account = QComboBox()
        self.account.setAccessibleName("Account")
        self.account.setToolTip("Only messages on this account")
        self.account.addItem("Any account", None)

        self.sphere = QComboBox()
        self.sphere.setAccessibleName("Sphere")
        self.sphere.setToolTip("Only messages on Work or on Personal accounts")
        self.sphere.addItem("Work and Personal", None)
        self.sphere.addItem("Work", Sphere.WORK.value)  # a plain str: Qt would not keep the enum type
        self.sphere.addItem("Personal", Sphere.PERSONAL.value)

        today = QDate.currentDate()
        self.use_from = QCheckBox("From")
        self.use_from.setAccessibleName("Limit the first day")
        self.from_date = self._date_edit("First day", today.addMonths(-1))
        self.use_to = QCheckBox("to")
        self.use_to.setAccessibleName("Limit the last day")
        self.to_date = self._date_edit("Last day", today)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        person_label = QLabel("&With:")
        person_label.setBuddy(self.person)
        layout.addWidget(person_label)
        layout.addWidget(self.person, 2)
        layout.addWidget(self.account, 2)
        layout.addWidget(self.sphere, 1)
        layout.addWidget(self.use_from)
        layout.addWidget(self.from_date)
        layout.addWidget(self.use_to)
        layout.addWidget(self.to_date)

        self.person.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.person.editTextChanged.connect(lambda _t: self.changed.emit())
        self.account.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.sphere.currentIndexChanged.connect(lambda _i: self.changed.emit())
        for check, edit in ((self.use_from, self.from_date), (self.use_to, self.to_date)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(lambda _on: self.changed.emit())
            edit.dateChanged.connect(lambda _d: self.changed.emit())

    @staticmethod
    def _date_edit(name: str, value: QDate) -> QDateEdit:
        edit = QDateEdit(value)
        edit.setAccessibleName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setEnabled(False)
        inner = edit.findChild(QLineEdit)
        if inner is not None:
            inner.setAccessibleName(name)
        return edit

    def set_choices(self, choices: FilterChoices) -> None:
        """The persons and accounts to choose from; what was chosen stays chosen when it still exists."""
        self._persons = list(choices.persons)
        person_text = self.person.currentText()
        account = self.account.currentData()
        for combo in (self.person, self.account):
            combo.blockSignals(True)
        self.person.clear()
        self.person.addItem(ANYONE, None)
        for p in self._persons:
            self.person.addItem(p.name, p.id)
        self.person.setEditText(person_text)
        self.account.clear()
        self.account.addItem("Any account", None)
        for a in choices.accounts:
            self.account.addItem(a.name, a.id)
        self.account.setCurrentIndex(max(0, self.account.findData(account)))
        for combo in (self.person, self.account):
            combo.blockSignals(False)

    def choose_person(self, person_id: int | None) -> None:
        index = self.person.findData(person_id)
        self.person.setCurrentIndex(max(0, index))

    def _person(self) -> PersonChoice | None:
        text = self.person.currentText().strip()
        if not text or text.casefold() == ANYONE.casefold():
            return None
        wanted = text.casefold()
        found = [p for p in self._persons if p.name.casefold() == wanted]
        if not found:
            partial = sum(1 for p in self._persons if wanted in p.name.casefold())
            if partial:
                raise FilterError(f"choose a person: {partial} name(s) contain {text!r}", partial=True)
            raise FilterError(f"no person is called {text!r}: choose one from the list, or clear the field")
        index = self.person.currentIndex()
        chosen = self.person.itemData(index) if index > 0 else None
        return next((p for p in found if p.id == chosen), found[0])

    def filters(self) -> SearchFilters:
        person = self._person()
        first = _to_date(self.from_date.date()) if self.use_from.isChecked() else None
        last = _to_date(self.to_date.date()) if self.use_to.isChecked() else None
        account = self.account.currentData()
        sphere = self.sphere.currentData()
        return SearchFilters(
            contacts=person.contacts if person else (),
            account_id=account if isinstance(account, str) else None,
            sphere=Sphere(sphere) if isinstance(sphere, str) else None,
            first_day=first,
            last_day=last,
        )
