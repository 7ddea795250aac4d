"""Thumbnails of clean pictures for the timeline, read with Qt's own image readers and scaled while
reading (a 40-megapixel photo is never decoded at full size). Each picture is read once per view and
registered with the document as a resource under ``aggregator-thumb:ID``."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QImage, QImageReader, QTextDocument

from ui.file_cards import THUMB_SCHEME, FileView

log = logging.getLogger(__name__)

MAX_SIZE = QSize(320, 240)


def read_thumbnail(path: str, limit: QSize = MAX_SIZE) -> QImage | None:
    """The picture at ``path`` scaled to fit ``limit`` (never enlarged); None when Qt cannot read it."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > limit.width() or size.height() > limit.height()):
        reader.setScaledSize(size.scaled(limit, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        log.info("No thumbnail for %s: %s", path, reader.errorString())
        return None
    return image


class Thumbnails:
    def __init__(self, document: QTextDocument) -> None:
        self._document = document
        self._images: dict[int, QImage | None] = {}

    def ensure(self, files: list[FileView]) -> set[int]:
        """Register the thumbnails of ``files`` that can have one; returns their ids."""
        shown: set[int] = set()
        for file in files:
            if not file.inline or file.local_path is None:
                continue
            if file.id not in self._images:
                self._images[file.id] = read_thumbnail(str(file.local_path))
            image = self._images[file.id]
            if image is not None:
                self._document.addResource(
                    QTextDocument.ResourceType.ImageResource, QUrl(f"{THUMB_SCHEME}:{file.id}"), image
                )
                shown.add(file.id)
        return shown
