"""Message templates: named standard replies, the organisation's (from the policy) and the user's own.

The user's templates live as JSON (``{"name": "text", ...}``) in the profile's config directory. The
organisation's names win on a clash and cannot be changed or removed here. The store keeps no state:
every call reads the file, so the GUI and the CLI never disagree.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aggregator.api import ConfigurationError
from aggregator.paths import ProfilePaths

log = logging.getLogger(__name__)

FILE_NAME = "templates.json"
MAX_NAME_LENGTH = 64


class TemplateSource(enum.StrEnum):
    ORGANISATION = "organisation"
    USER = "user"


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    text: str
    source: TemplateSource

    @property
    def editable(self) -> bool:
        return self.source is TemplateSource.USER


class TemplateError(ConfigurationError):
    """A template cannot be added, found or removed; the message says why."""


def check_name(name: str) -> str:
    """The name as stored (stripped), or ``TemplateError`` naming the problem."""
    cleaned = name.strip()
    if not cleaned:
        raise TemplateError("a template needs a name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise TemplateError(f"a template name has at most {MAX_NAME_LENGTH} characters")
    if any(not c.isprintable() for c in cleaned):
        raise TemplateError("a template name is one line of printable characters")
    return cleaned


class TemplateStore:
    def __init__(self, path: Path, organisation: Mapping[str, str]) -> None:
        self._path = path
        self._organisation = dict(organisation)

    @classmethod
    def for_profile(cls, paths: ProfilePaths, organisation: Mapping[str, str]) -> TemplateStore:
        return cls(paths.config_dir / FILE_NAME, organisation)

    @property
    def path(self) -> Path:
        return self._path

    # -- reading ------------------------------------------------------------------------------------

    def user_templates(self) -> dict[str, str]:
        """The user's own templates, as stored. An unreadable file is an error, never silently empty."""
        if not self._path.exists():
            return {}
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TemplateError(f"cannot read the templates file {self._path}: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise TemplateError(f"the templates file {self._path} is not an object of name: text")
        return dict(data)

    def all(self) -> list[Template]:
        """Every template, by name; an organisation's template hides the user's of the same name."""
        found = {name: Template(name, text, TemplateSource.USER) for name, text in self.user_templates().items()}
        for name, text in self._organisation.items():
            found[name] = Template(name, text, TemplateSource.ORGANISATION)
        return sorted(found.values(), key=lambda t: t.name.casefold())

    def names(self) -> list[str]:
        return [t.name for t in self.all()]

    def get(self, name: str) -> Template:
        """The template called ``name`` (exactly, else ignoring case); ``TemplateError`` listing the names."""
        wanted = name.strip()
        templates = self.all()
        for template in templates:
            if template.name == wanted:
                return template
        for template in templates:
            if template.name.casefold() == wanted.casefold():
                return template
        known = ", ".join(t.name for t in templates) or "none yet"
        raise TemplateError(f"no template called {wanted!r} (templates: {known})")

    # -- changing -----------------------------------------------------------------------------------

    def add(self, name: str, text: str) -> Template:
        """Add (or replace) one of the user's templates."""
        name = check_name(name)
        if not text.strip():
            raise TemplateError("a template needs some text")
        if name in self._organisation:
            raise TemplateError(f"{name!r} is one of the organisation's templates and cannot be changed")
        templates = self.user_templates()
        templates[name] = text
        self._write(templates)
        log.info("Template %r saved", name)
        return Template(name, text, TemplateSource.USER)

    def remove(self, name: str) -> None:
        name = name.strip()
        if name in self._organisation:
            raise TemplateError(f"{name!r} is one of the organisation's templates and cannot be removed")
        templates = self.user_templates()
        if name not in templates:
            known = ", ".join(sorted(templates, key=str.casefold)) or "none"
            raise TemplateError(f"you have no template called {name!r} (yours: {known})")
        del templates[name]
        self._write(templates)
        log.info("Template %r removed", name)

    def _write(self, templates: Mapping[str, str]) -> None:
        """Atomically, private to the user: a crash leaves the old file or the new one."""
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".templates-", dir=self._path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(dict(templates), f, ensure_ascii=False, indent=2, sort_keys=True)
                f.write("\n")
            os.replace(tmp, self._path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
