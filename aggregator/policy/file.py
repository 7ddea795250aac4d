"""The organisation's policy file: where it is, what it says, and what is wrong with it.

The schema is documented (with a complete example) in ``docs/policy.md``. Every key is validated on its
own: a bad key becomes a ``Problem`` (its key path and why) and is skipped; the rest apply. A file that
cannot be read or is not TOML at all gives a ``PolicyLoad`` with ``error`` set and no policy.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from aggregator.api import Sphere

log = logging.getLogger(__name__)

POLICY_ENV = "AGGREGATOR_POLICY"
SCHEMA_VERSION = 1

#: Settings keys and their validators (``aggregator.settings.Settings`` fields).
SETTING_BOUNDS = (0.0, 3600.0)

PROFILE_FIELDS = ("protocol", "server", "username", "sphere", "label", "ca_file", "autojoin", "allow_plaintext")
LOCKABLE_PROFILE_FIELDS = frozenset(PROFILE_FIELDS)
SCOPE_KEYS = (
    "logging",
    "retention_days",
    "file_transfer",
    "max_file_mb",
    "blocked_extensions",
    "scan_required",
    "allowed_domains",
    "disclaimer",
    "banner",
)


def system_policy_path(platform: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The system-wide location, which beats anything in the user's own configuration."""
    platform = platform or sys.platform
    environ = os.environ if environ is None else environ
    if platform.startswith("win"):
        return Path(environ.get("ProgramData", r"C:\ProgramData")) / "aggregator" / "policy.toml"
    if platform == "darwin":
        return Path("/Library/Application Support/aggregator/policy.toml")
    return Path("/etc/xdg/aggregator/policy.toml")


def policy_path(environ: Mapping[str, str] | None = None) -> Path:
    """``AGGREGATOR_POLICY`` if set, else the system location."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(POLICY_ENV)
    return Path(chosen).expanduser() if chosen else system_policy_path(environ=environ)


# -- the parsed policy ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One key of the file that was skipped: where (``key``, a dotted path) and why."""

    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ScopeRules:
    """Rules for a sphere (``[rules.work]``) or one account (``[rules.accounts."ID"]``); None: not set."""

    logging_required: bool | None = None
    retention_days: int | None = None
    file_transfer: str | None = None  # "allow" | "deny" | "scan" (aggregator.files.rules.FileMode)
    max_file_mb: int | None = None
    blocked_extensions: tuple[str, ...] | None = None  # lower case, without the dot
    scan_required: bool | None = None
    allowed_domains: tuple[str, ...] | None = None
    disclaimer: str | None = None
    banner: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True, slots=True)
class BlockedWords:
    """``[[rules.blocked_words]]``: words (whole words, any case) or regexes; ``block`` or ``warn``."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    action: str  # "block" | "warn"
    spheres: frozenset[Sphere] | None = None  # None: every sphere
    message: str = ""

    def first_match(self, body: str) -> str | None:
        for pattern in self.patterns:
            found = pattern.search(body)
            if found:
                return found.group(0)
        return None


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """``[[profiles]]``: an account the client creates; the user types only what is missing."""

    name: str
    protocol: str
    username: str  # a template: ${USER}, ${EMAIL}; "" or "${ASK}": asked
    sphere: Sphere = Sphere.WORK
    server: str | None = None
    label: str = ""
    ca_file: str | None = None
    autojoin: tuple[str, ...] = ()
    allow_plaintext: bool = False
    locked: frozenset[str] = frozenset()
    offboard: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    source: Path | None = None
    defaults: Mapping[str, float] = field(default_factory=dict)
    locked: Mapping[str, float] = field(default_factory=dict)
    profiles: tuple[ProfileSpec, ...] = ()
    spheres: Mapping[Sphere, ScopeRules] = field(default_factory=dict)
    accounts: Mapping[str, ScopeRules] = field(default_factory=dict)
    blocked_words: tuple[BlockedWords, ...] = ()
    merge_across_spheres: bool = True
    templates: Mapping[str, str] = field(default_factory=dict)
    clamd_socket: Path | None = None  # [rules] clamd_socket: the ClamAV daemon's UNIX socket


@dataclass(frozen=True, slots=True)
class PolicyLoad:
    """What reading the policy file gave: the policy (None if absent or unusable), the skipped keys, and
    for an unusable file the reason (``error``)."""

    path: Path
    policy: Policy | None
    problems: tuple[Problem, ...] = ()
    error: str = ""

    @property
    def present(self) -> bool:
        return self.policy is not None or bool(self.error)


# -- parsing ----------------------------------------------------------------------------------------


class _Skip(Exception):
    """A key's value is invalid; the message says why."""


class _Parser:
    def __init__(self, setting_names: frozenset[str]) -> None:
        self.problems: list[Problem] = []
        self._settings = setting_names

    def report(self, key: str, reason: str) -> None:
        self.problems.append(Problem(key, reason))

    def table(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.report(path, f"must be a table, not {_kind(value)}")
            return {}
        return value

    def each(self, data: Mapping[str, Any], path: str, known: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
        """Validate every key of ``data`` with its validator; report and skip unknown or invalid keys."""
        result: dict[str, Any] = {}
        for key, value in data.items():
            where = f"{path}.{key}" if path else key
            check = known.get(key)
            if check is None:
                self.report(where, f"unknown key (known: {', '.join(sorted(known))})")
                continue
            try:
                result[key] = check(value)
            except _Skip as exc:
                self.report(where, str(exc))
        return result

    # -- sections ---------------------------------------------------------------------------------

    def settings(self, data: Mapping[str, Any], path: str) -> dict[str, float]:
        return self.each(data, path, {name: _seconds for name in self._settings})

    def scope(self, data: Mapping[str, Any], path: str) -> ScopeRules:
        values = self.each(
            data,
            path,
            {
                "logging": _logging,
                "retention_days": _retention,
                "file_transfer": _choice("allow", "deny", "scan"),
                "max_file_mb": _megabytes,
                "blocked_extensions": _extensions,
                "scan_required": _bool,
                "allowed_domains": _domains,
                "disclaimer": _text,
                "banner": _text,
            },
        )
        if "logging" in values:
            values["logging_required"] = values.pop("logging")
        return ScopeRules(**values)

    def blocked(self, data: Any, path: str) -> tuple[BlockedWords, ...]:
        if not isinstance(data, list):
            self.report(path, f"must be an array of tables ([[rules.blocked_words]]), not {_kind(data)}")
            return ()
        rules: list[BlockedWords] = []
        for i, entry in enumerate(data):
            where = f"{path}[{i}]"
            if not isinstance(entry, dict):
                self.report(where, f"must be a table, not {_kind(entry)}")
                continue
            values = self.each(
                entry,
                where,
                {
                    "name": _name,
                    "words": _words,
                    "regexes": _regexes,
                    "action": _choice("block", "warn"),
                    "spheres": _spheres,
                    "message": _text,
                },
            )
            patterns = (*values.get("words", ()), *values.get("regexes", ()))
            if not patterns:
                if "words" not in entry and "regexes" not in entry:
                    self.report(where, "has neither words nor regexes; rule skipped")
                else:
                    self.report(where, "no usable word or regex left; rule skipped")
                continue
            rules.append(
                BlockedWords(
                    name=values.get("name", f"blocked_words[{i}]"),
                    patterns=tuple(patterns),
                    action=values.get("action", "block"),
                    spheres=values.get("spheres"),
                    message=values.get("message", ""),
                )
            )
        return tuple(rules)

    def profiles(self, data: Any) -> tuple[ProfileSpec, ...]:
        if not isinstance(data, list):
            self.report("profiles", f"must be an array of tables ([[profiles]]), not {_kind(data)}")
            return ()
        specs: list[ProfileSpec] = []
        seen: set[str] = set()
        for i, entry in enumerate(data):
            where = f"profiles[{i}]"
            if not isinstance(entry, dict):
                self.report(where, f"must be a table, not {_kind(entry)}")
                continue
            values = self.each(
                entry,
                where,
                {
                    "name": _name,
                    "protocol": _name,
                    "server": _text,
                    "username": _username,
                    "sphere": _sphere,
                    "label": _text,
                    "ca_file": _text,
                    "autojoin": _strings,
                    "allow_plaintext": _bool,
                    "locked": _locked_fields,
                    "offboard": _bool,
                },
            )
            missing = [k for k in ("name", "protocol") if k not in values]
            if missing:
                self.report(where, f"needs {' and '.join(missing)}; profile skipped")
                continue
            if values["name"] in seen:
                self.report(f"{where}.name", f"profile {values['name']!r} is named twice; profile skipped")
                continue
            seen.add(values["name"])
            specs.append(
                ProfileSpec(
                    name=values["name"],
                    protocol=values["protocol"],
                    username=values.get("username", ""),
                    sphere=values.get("sphere", Sphere.WORK),
                    server=values.get("server"),
                    label=values.get("label", ""),
                    ca_file=values.get("ca_file"),
                    autojoin=tuple(values.get("autojoin", ())),
                    allow_plaintext=values.get("allow_plaintext", False),
                    locked=values.get("locked", frozenset()),
                    offboard=values.get("offboard", False),
                )
            )
        return tuple(specs)


def parse_policy(text: str, *, source: Path | None, setting_names: frozenset[str]) -> tuple[Policy, list[Problem]]:
    """Parse TOML text (raises ``tomllib.TOMLDecodeError``); every bad key is a problem, skipped."""
    data = tomllib.loads(text)
    p = _Parser(setting_names)
    top = {"version", "defaults", "locked", "profiles", "rules"}
    for key in data:
        if key not in top:
            p.report(key, f"unknown key (known: {', '.join(sorted(top))})")
    if "version" in data and data["version"] != SCHEMA_VERSION:
        p.report("version", f"this client understands version {SCHEMA_VERSION}, not {data['version']!r}")
    defaults = p.settings(p.table(data, "defaults", "defaults"), "defaults")
    locked = p.settings(p.table(data, "locked", "locked"), "locked")
    profiles = p.profiles(data["profiles"]) if "profiles" in data else ()
    rules = p.table(data, "rules", "rules")
    spheres: dict[Sphere, ScopeRules] = {}
    accounts: dict[str, ScopeRules] = {}
    blocked: tuple[BlockedWords, ...] = ()
    merge = True
    templates: dict[str, str] = {}
    clamd_socket: Path | None = None
    for key, value in rules.items():
        where = f"rules.{key}"
        if key in {s.value for s in Sphere}:
            if not isinstance(value, dict):
                p.report(where, f"must be a table, not {_kind(value)}")
                continue
            spheres[Sphere(key)] = p.scope(value, where)
        elif key == "accounts":
            if not isinstance(value, dict):
                p.report(where, f"must be a table of account ids, not {_kind(value)}")
                continue
            for account_id, scope in value.items():
                aw = f'{where}."{account_id}"'
                if not isinstance(scope, dict):
                    p.report(aw, f"must be a table, not {_kind(scope)}")
                    continue
                accounts[str(account_id)] = p.scope(scope, aw)
        elif key == "blocked_words":
            blocked = p.blocked(value, where)
        elif key == "merge_across_spheres":
            try:
                merge = _bool(value)
            except _Skip as exc:
                p.report(where, str(exc))
        elif key == "clamd_socket":
            try:
                clamd_socket = _socket_path(value)
            except _Skip as exc:
                p.report(where, str(exc))
        elif key == "templates":
            if not isinstance(value, dict):
                p.report(where, f"must be a table of name = text, not {_kind(value)}")
                continue
            for name, body in value.items():
                try:
                    templates[str(name)] = _text(body)
                except _Skip as exc:
                    p.report(f"{where}.{name}", str(exc))
        else:
            known = ", ".join(
                ["accounts", "blocked_words", "clamd_socket", "merge_across_spheres", "templates", "work", "personal"]
            )
            p.report(where, f"unknown key (known: {known})")
    policy = Policy(
        source=source,
        defaults=defaults,
        locked=locked,
        profiles=profiles,
        spheres=spheres,
        accounts=accounts,
        blocked_words=blocked,
        merge_across_spheres=merge,
        templates=templates,
        clamd_socket=clamd_socket,
    )
    return policy, p.problems


def load_policy(path: Path | None = None, *, setting_names: frozenset[str] | None = None) -> PolicyLoad:
    """Read the policy file. Absent: no policy, no error. Unreadable or not TOML: ``error`` says why."""
    if setting_names is None:
        from aggregator.settings import Settings

        setting_names = Settings.names()
    path = path or policy_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if os.environ.get(POLICY_ENV) and path == policy_path():
            return PolicyLoad(path, None, error=f"{POLICY_ENV} names {path}, which does not exist")
        return PolicyLoad(path, None)
    except OSError as exc:
        return PolicyLoad(path, None, error=f"cannot read {path}: {exc.strerror or exc}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return PolicyLoad(path, None, error=f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}")
    try:
        policy, problems = parse_policy(text, source=path, setting_names=setting_names)
    except tomllib.TOMLDecodeError as exc:
        return PolicyLoad(path, None, error=f"{path} is not valid TOML: {exc}")
    for problem in problems:
        log.warning("Policy %s: %s (skipped)", path, problem)
    return PolicyLoad(path, policy, tuple(problems))


# -- validators: each returns the value or raises _Skip with the reason --------------------------------


def _kind(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean", int: "an integer"}.get(
        type(value), type(value).__name__
    )


def _seconds(value: Any) -> float:
    low, high = SETTING_BOUNDS
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Skip(f"must be a number of seconds, not {_kind(value)}")
    if not low < value <= high:
        raise _Skip(f"must be in ({low:g}, {high:g}] seconds, not {value}")
    return float(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Skip(f"must be a string, not {_kind(value)}")
    return value


def _name(value: Any) -> str:
    text = _text(value).strip()
    if not text:
        raise _Skip("must not be empty")
    return text


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Skip(f"must be true or false, not {_kind(value)}")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Skip("must be an array of strings")
    return tuple(v for v in value if v.strip())


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise _Skip(f"must be one of {', '.join(repr(c) for c in choices)}, not {value!r}")
        return str(value)

    return check


def _logging(value: Any) -> bool:
    if value not in ("required", "optional"):
        raise _Skip(f"must be 'required' or 'optional', not {value!r}")
    return bool(value == "required")


def _retention(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Skip(f"must be a whole number of days, at least 1, not {value!r}")
    return value


def _megabytes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Skip(f"must be a whole number of megabytes, at least 1, not {value!r}")
    return value


_EXTENSION = re.compile(r"^[a-z0-9][a-z0-9_+-]{0,15}$")


def _extensions(value: Any) -> tuple[str, ...]:
    items = tuple(v.strip().lower().lstrip(".") for v in _strings(value))
    bad = [e for e in items if not _EXTENSION.match(e)]
    if bad:
        raise _Skip(f"not a file extension: {', '.join(repr(b) for b in bad)}")
    return items


def _socket_path(value: Any) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _Skip(f"must be the path of clamd's socket, not {value!r}")
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        raise _Skip(f"must be an absolute path, not {value!r}")
    return path


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _domains(value: Any) -> tuple[str, ...]:
    items = _strings(value)
    if not items:
        raise _Skip("must name at least one domain")
    bad = [d for d in items if not _DOMAIN.match(d.strip().lower())]
    if bad:
        raise _Skip(f"not a domain: {', '.join(repr(b) for b in bad)}")
    return tuple(d.strip().lower() for d in items)


def _words(value: Any) -> tuple[re.Pattern[str], ...]:
    items = _strings(value)
    return tuple(re.compile(rf"(?<!\w){re.escape(w.strip())}(?!\w)", re.IGNORECASE) for w in items)


def _regexes(value: Any) -> tuple[re.Pattern[str], ...]:
    items = _strings(value)
    compiled: list[re.Pattern[str]] = []
    for item in items:
        try:
            compiled.append(re.compile(item, re.IGNORECASE))
        except re.error as exc:
            raise _Skip(f"{item!r} is not a valid regular expression: {exc}") from None
    return tuple(compiled)


def _sphere(value: Any) -> Sphere:
    try:
        return Sphere(value)
    except ValueError:
        raise _Skip(f"must be one of {', '.join(s.value for s in Sphere)}, not {value!r}") from None


def _spheres(value: Any) -> frozenset[Sphere]:
    return frozenset(_sphere(v) for v in _strings(value))


_TEMPLATE_VAR = re.compile(r"\$\{([A-Za-z_]+)\}")
TEMPLATE_VARIABLES = frozenset({"USER", "EMAIL", "ASK"})


def _username(value: Any) -> str:
    text = _text(value).strip()
    unknown = [v for v in _TEMPLATE_VAR.findall(text) if v not in TEMPLATE_VARIABLES]
    if unknown:
        raise _Skip(f"unknown variable ${{{unknown[0]}}} (known: ${{USER}}, ${{EMAIL}}, ${{ASK}})")
    return text


def _locked_fields(value: Any) -> frozenset[str]:
    items = _strings(value)
    bad = [f for f in items if f not in LOCKABLE_PROFILE_FIELDS]
    if bad:
        raise _Skip(f"cannot lock {', '.join(bad)} (lockable: {', '.join(PROFILE_FIELDS)})")
    return frozenset(items)


def expand_username(template: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The username a template gives, or None if something must be asked (``${ASK}``, an unset variable,
    an empty template)."""
    environ = os.environ if environ is None else environ
    if not template or "${ASK}" in template:
        return None
    missing = False

    def sub(match: re.Match[str]) -> str:
        nonlocal missing
        value = environ.get(match.group(1), "")
        if not value:
            missing = True
        return value

    result = _TEMPLATE_VAR.sub(sub, template)
    return None if missing else result
