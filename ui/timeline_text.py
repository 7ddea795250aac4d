"""What the conversation view writes for each row, as plain values: the sender's name, the day
separators ("Today", "Yesterday", a weekday within the last week, else the full date), each row's
tooltip, and the row's HTML (every piece of a message escaped; links only through ``ui.richtext``).

Qt-free, so the rules can be tested on their own; ``ui.message_view`` lays the rows out.
"""

from __future__ import annotations

import html
from datetime import date, datetime

from aggregator.api import MessageKind, MessageState
from aggregator.app.names import SenderNames
from aggregator.app.types import Direction, StoredMessage
from ui.richtext import linkify
from ui.theme_colors import LIGHT, nick_color
from ui.theme_colors import current as theme_colors

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

STATE_MARKS = {
    MessageState.PENDING: ("…", "sending"),
    MessageState.SENT: ("✓", "sent"),
    MessageState.DELIVERED: ("✓✓", "delivered"),
    MessageState.READ: ("✓✓ read", "read"),
}
RETRY_SCHEME = "retry"
GREY = LIGHT.dim  # the dimmed text of the light theme (``theme_colors().dim`` is the one in force)


# -- days -------------------------------------------------------------------------------------------


def local_day(at: datetime) -> date:
    return at.astimezone().date()


def full_date(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"


def day_label(day: date, today: date) -> str:
    """ "Today", "Yesterday", the weekday within the last week, else the full date (also for a day
    after today: a sender's clock ahead of ours)."""
    ago = (today - day).days
    if ago == 0:
        return "Today"
    if ago == 1:
        return "Yesterday"
    if 1 < ago < 7:
        return WEEKDAYS[day.weekday()]
    return full_date(day)


def day_breaks(messages: list[StoredMessage]) -> list[int]:
    """The rows that start a new local day (the first row always does)."""
    rows: list[int] = []
    previous: date | None = None
    for row, message in enumerate(messages):
        day = local_day(message.sent_at)
        if day != previous:
            rows.append(row)
        previous = day
    return rows


# -- one row ----------------------------------------------------------------------------------------


def tooltip(message: StoredMessage, names: SenderNames) -> str:
    """Plain text: the full local date and time, who (with the address) and the account."""
    at = message.sent_at.astimezone()
    lines = [f"{full_date(at.date())}, {at:%H:%M:%S}"]
    if message.direction is Direction.OUT:
        own = names.own.get(message.account_id)
        lines.append(f"From you ({own})" if own else "From you")
    else:
        who = names.name(message)
        lines.append(f"From {who} ({message.sender})" if who != message.sender else f"From {who}")
    lines.append(f"Account: {names.account(message.account_id)}")
    if names.mentions_us(message):
        lines.append("Mentions you")
    return "\n".join(lines)


def stamp_text(message: StoredMessage) -> str:
    """The time a row starts with (and the width its wrapped lines are indented by)."""
    return f"{message.sent_at.astimezone():%H:%M} "


def message_html(message: StoredMessage, *, show_account: bool = False, names: SenderNames | None = None) -> str:
    """One row: the time (HH:MM), the account when it changes, the sender, the escaped body, our
    delivery state."""
    names = names or SenderNames()
    colors = theme_colors()  # ui.theme_colors: readable in the light and the dark theme
    if message.direction is Direction.OUT:
        color = colors.own
    else:  # in a room (no person names the senders) each member's name in a colour of its own
        color = colors.their if names.person is not None else nick_color(names.name(message), colors)
    grey = colors.dim
    body = linkify(message.body)
    if message.kind is MessageKind.SYSTEM:  # a status line (signed off, away, ...): no sender, dimmed
        line = f'<i style="color:{grey}">{body}</i>'
    elif message.kind is MessageKind.ACTION:
        line = f'<span style="color:{color}">* {html.escape(names.actor(message))}</span> {body}'
    else:
        line = f'<b style="color:{color}">{html.escape(names.name(message))}:</b> {body}'
    stamp = f'<span style="color:{grey}">{stamp_text(message).strip()}</span> '
    tail = ""
    if message.direction is Direction.OUT:
        if message.state is MessageState.FAILED:
            reason = f": {html.escape(message.error)}" if message.error else ""
            retry = f'<a href="{RETRY_SCHEME}:{message.id}">Retry</a>'
            tail = f' <span style="color:{colors.error}">✗ failed{reason}</span> {retry}'
        elif message.state in STATE_MARKS:
            mark, _label = STATE_MARKS[message.state]
            tail = f' <span style="color:{grey}">{mark}</span>'
    account = ""
    if show_account:
        label = html.escape(names.account(message.account_id))
        account = f'<span style="color:{grey}; font-size:small">[on {label}]</span> '
    return f"{stamp}{account}{line}{tail}"  # the time first, always: a column down the left
