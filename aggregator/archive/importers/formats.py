"""The log formats of issue 18 item 2, each with its name, description, detection and reader, so that a
format registry (``import auto``) can list and recognise them. Each reader takes the user's own names
(``me``) and the zone of logs written without one (``zone``; None: this machine's zone), and ignores
what its format does not need."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from aggregator.archive.importers import adium, element, gajim, hexchat, irssi, weechat
from aggregator.archive.importers.common import LogFile, Skipped

Parse = Callable[[Path, list[Path], Sequence[str], tzinfo | None], Iterator[LogFile | Skipped]]


@dataclass(frozen=True, slots=True)
class LogFormat:
    name: str
    title: str
    description: str
    detect: Callable[[Path], bool]
    read: Callable[[Path], tuple[Path, list[Path]]]
    parse: Parse


def _adium(root: Path, files: list[Path], me: Sequence[str], zone: tzinfo | None) -> Iterator[LogFile | Skipped]:
    return adium.parse_all(root, files, zone=zone)


def _gajim(root: Path, files: list[Path], me: Sequence[str], zone: tzinfo | None) -> Iterator[LogFile | Skipped]:
    return gajim.parse_all(root, files, me=me)


def _irssi(root: Path, files: list[Path], me: Sequence[str], zone: tzinfo | None) -> Iterator[LogFile | Skipped]:
    return irssi.parse_all(root, files, me=me, zone=zone)


def _weechat(root: Path, files: list[Path], me: Sequence[str], zone: tzinfo | None) -> Iterator[LogFile | Skipped]:
    return weechat.parse_all(root, files, me=me, zone=zone)


def _hexchat(root: Path, files: list[Path], me: Sequence[str], zone: tzinfo | None) -> Iterator[LogFile | Skipped]:
    return hexchat.parse_all(root, files, me=me, zone=zone)


def _element(root: Path, files: list[Path], me: Sequence[str], zone: tzinfo | None) -> Iterator[LogFile | Skipped]:
    return element.parse_all(root, files)


FORMATS: dict[str, LogFormat] = {
    f.name: f
    for f in (
        LogFormat(adium.SOURCE, adium.TITLE, adium.DESCRIPTION, adium.detect, adium.read, _adium),
        LogFormat(gajim.SOURCE, gajim.TITLE, gajim.DESCRIPTION, gajim.detect, gajim.read, _gajim),
        LogFormat(irssi.SOURCE, irssi.TITLE, irssi.DESCRIPTION, irssi.detect, irssi.read, _irssi),
        LogFormat(weechat.SOURCE, weechat.TITLE, weechat.DESCRIPTION, weechat.detect, weechat.read, _weechat),
        LogFormat(hexchat.SOURCE, hexchat.TITLE, hexchat.DESCRIPTION, hexchat.detect, hexchat.read, _hexchat),
        LogFormat(element.SOURCE, element.TITLE, element.DESCRIPTION, element.detect, element.read, _element),
    )
}
