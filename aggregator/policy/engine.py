"""The policy engine's fixed points. Decisions are values, with the rule and a reason the user sees.

Until an organisation's policy is loaded, every decision is ``allow``. Every decision that stops or holds
something (and every warning) is handed to the listeners as a ``PolicyEvent`` (the archive records it,
the bus announces it).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

from aggregator.api import AccountId, ConversationKey, ConversationKind, MessageReceived, PolicyError, Sphere
from aggregator.files.rules import FileMode, FileRules
from aggregator.policy.file import Policy, ProfileSpec, ScopeRules

log = logging.getLogger(__name__)

_FIELDS = tuple(f.name for f in fields(ScopeRules))


class Verdict(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    WARN = "warn"
    REDACT = "redact"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    rule: str = ""
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.verdict is not Verdict.DENY


ALLOW = Decision(Verdict.ALLOW)


class ConfirmationRequiredError(PolicyError):
    """The policy warns about this action: it goes ahead only when the user confirms it."""


@dataclass(frozen=True, slots=True)
class PolicyEvent:
    """One decision that stopped, held or warned about something (a row of ``policy_events``)."""

    action: str  # "send", "receive", "merge", "subscription", "file_transfer", "settings", "policy"
    decision: Decision
    account_id: AccountId | None = None
    conversation: str | None = None
    #: What was held (an inbound message's body), for the administrator; never shown as a message.
    content: str | None = None
    #: A stable reference (an inbound message's server id), so a replayed message is recorded once.
    ref: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class FailSafe:
    """What the last good policy required, kept while the current file is unusable."""

    logging_spheres: frozenset[Sphere] = frozenset()
    logging_accounts: frozenset[AccountId] = frozenset()


@dataclass(frozen=True, slots=True)
class SettingLock:
    """A locked setting: its value and why (for the UI's disabled control and the CLI's refusal)."""

    name: str
    value: float
    reason: str


def address_domain(address: str) -> str | None:
    """The domain of an address (``u@d/r``, ``@u:d``, ``!r:d``, ``#r:d``), lower case; None if it has none
    (an IRC nick or channel)."""
    a = address.strip().lower()
    if a[:1] in ("@", "!", "#", "+") and ":" in a:
        return a.split(":", 1)[1].split(":", 1)[0] or None
    if "@" in a:
        return a.split("@", 1)[1].split("/", 1)[0] or None
    return None


def domain_allowed(domain: str, allowed: Iterable[str]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in allowed)


class PolicyEngine:
    def __init__(self, policy: Policy | None = None, *, fail_safe: FailSafe | None = None) -> None:
        self._policy = policy
        self._fail_safe = fail_safe or FailSafe()
        self._spheres: Callable[[], Mapping[AccountId, Sphere]] = dict
        self._listeners: list[Callable[[PolicyEvent], None]] = []

    @property
    def policy(self) -> Policy | None:
        return self._policy

    def bind_accounts(self, spheres: Callable[[], Mapping[AccountId, Sphere]]) -> None:
        """Tell the engine each account's sphere (called once the account manager exists)."""
        self._spheres = spheres

    def add_listener(self, listener: Callable[[PolicyEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, event: PolicyEvent) -> None:
        log.info(
            "Policy %s: %s (%s) on %s", event.decision.verdict, event.action, event.decision.rule, event.account_id
        )
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("A policy listener failed")

    def sphere_of(self, account_id: AccountId) -> Sphere:
        return self._spheres().get(account_id, Sphere.PERSONAL)

    def rules_for(self, account_id: AccountId) -> ScopeRules:
        """The rules that apply to an account: its sphere's, with the account's own on top."""
        policy = self._policy
        if policy is None:
            return ScopeRules()
        base = policy.spheres.get(self.sphere_of(account_id), ScopeRules())
        own = policy.accounts.get(account_id)
        if own is None:
            return base
        return ScopeRules(
            **{name: getattr(own, name) if getattr(own, name) is not None else getattr(base, name) for name in _FIELDS}
        )

    # -- fixed points -----------------------------------------------------------------------------

    def check_inbound(self, event: MessageReceived) -> Decision:
        conv = event.conversation
        allowed = self.rules_for(conv.account_id).allowed_domains
        if not allowed:
            return ALLOW
        address = conv.handle if conv.kind is ConversationKind.ROOM or event.is_own_echo else event.sender
        domain = address_domain(address)
        if domain is None or domain_allowed(domain, allowed):
            return ALLOW
        decision = Decision(
            Verdict.DENY,
            "allowed_domains",
            f"a message from {address} was held: {domain} is outside the allowed domains ({', '.join(allowed)})",
        )
        self._emit(
            PolicyEvent(
                "receive",
                decision,
                account_id=conv.account_id,
                conversation=conv.handle,
                content=event.body,
                ref=event.server_id,
            )
        )
        return decision

    def check_outbound(
        self, account_id: AccountId, conversation: ConversationKey, body: str, *, confirmed: bool = False
    ) -> Decision:
        """``confirmed``: the user saw a warning for this message and chose to send it anyway."""
        decision = self._outbound(account_id, conversation, body)
        if decision.verdict is Verdict.ALLOW:
            return decision
        if decision.verdict is Verdict.WARN and confirmed:
            self._emit(
                PolicyEvent("send (confirmed)", decision, account_id=account_id, conversation=conversation.handle)
            )
            return decision
        self._emit(PolicyEvent("send", decision, account_id=account_id, conversation=conversation.handle))
        return decision

    def peek_outbound(self, account_id: AccountId, conversation: ConversationKey, body: str) -> Decision:
        """The decision ``check_outbound`` would take, without recording it (to refuse before connecting)."""
        return self._outbound(account_id, conversation, body)

    def _outbound(self, account_id: AccountId, conversation: ConversationKey, body: str) -> Decision:
        rules = self.rules_for(account_id)
        if rules.allowed_domains:
            domain = address_domain(conversation.handle)
            if domain is not None and not domain_allowed(domain, rules.allowed_domains):
                return Decision(
                    Verdict.DENY,
                    "allowed_domains",
                    f"{conversation.handle} is outside the allowed domains ({', '.join(rules.allowed_domains)})",
                )
        if self._policy is None:
            return ALLOW
        sphere = self.sphere_of(account_id)
        warning: Decision | None = None
        for rule in self._policy.blocked_words:
            if rule.spheres is not None and sphere not in rule.spheres:
                continue
            found = rule.first_match(body)
            if found is None:
                continue
            extra = f" {rule.message}" if rule.message else ""
            if rule.action == "block":
                return Decision(
                    Verdict.DENY,
                    f"blocked_words:{rule.name}",
                    f"the message contains {found!r}, which the rule {rule.name!r} does not allow.{extra}",
                )
            if warning is None:
                warning = Decision(
                    Verdict.WARN,
                    f"blocked_words:{rule.name}",
                    f"the message contains {found!r} (rule {rule.name!r}); send it only if you are sure.{extra}",
                )
        return warning or ALLOW

    def check_merge(
        self, *, target_sphere: Sphere, source_sphere: Sphere, contact_spheres: frozenset[Sphere]
    ) -> Decision:
        """May the user merge a person (``source_sphere``) into another (``target_sphere``)?
        ``contact_spheres``: the spheres of the accounts of every contact the merged person would have."""
        if self._policy is None or self._policy.merge_across_spheres:
            return ALLOW
        spheres = contact_spheres | {target_sphere, source_sphere}
        if len(spheres) <= 1:
            return ALLOW
        decision = Decision(
            Verdict.DENY,
            "merge_across_spheres",
            "the organisation's policy keeps work and personal contacts apart: "
            f"this merge would mix {' and '.join(sorted(s.value for s in spheres))}",
        )
        self._emit(PolicyEvent("merge", decision))
        return decision

    def check_subscription(self, account_id: AccountId, handle: str) -> Decision:
        """A contact asks to see our presence: requests from outside the allowed domains are declined."""
        allowed = self.rules_for(account_id).allowed_domains
        domain = address_domain(handle)
        if not allowed or domain is None or domain_allowed(domain, allowed):
            return ALLOW
        decision = Decision(
            Verdict.DENY,
            "allowed_domains",
            f"a contact request from {handle} was declined: {domain} is outside the allowed domains",
        )
        self._emit(PolicyEvent("subscription", decision, account_id=account_id, conversation=handle))
        return decision

    def check_file_transfer(self, account_id: AccountId, conversation: str | None = None) -> Decision:
        """May files be sent or received on this account? (A denial is recorded.)"""
        decision = self.file_transfer(account_id)
        if not decision.allowed:
            self._emit(PolicyEvent("file_transfer", decision, account_id=account_id, conversation=conversation))
        return decision

    # -- what the UI and the CLI show ---------------------------------------------------------------

    def file_transfer(self, account_id: AccountId) -> Decision:
        """The decision for file transfer on this account, without recording anything."""
        if self.rules_for(account_id).file_transfer == "deny":
            sphere = self.sphere_of(account_id).value
            return Decision(Verdict.DENY, "file_transfer", f"file transfer is turned off for {sphere} accounts")
        return ALLOW

    def file_rules(self, account_id: AccountId) -> FileRules:
        """The file rules for this account (mode, size limit, blocked extensions, scanning)."""
        rules = self.rules_for(account_id)
        return FileRules(
            mode=FileMode(rules.file_transfer or FileMode.ALLOW),
            max_file_mb=rules.max_file_mb,
            blocked_extensions=frozenset(rules.blocked_extensions or ()),
            scan_required=bool(rules.scan_required),
        )

    @property
    def clamd_socket(self) -> Path | None:
        return self._policy.clamd_socket if self._policy is not None else None

    def banner(self, account_id: AccountId) -> str | None:
        """The notice the UI shows in every conversation of this account (e.g. "This conversation is archived")."""
        return self.rules_for(account_id).banner or None

    def disclaimer(self, account_id: AccountId) -> str | None:
        """The text sent once per conversation per day, before the first message of the day."""
        return self.rules_for(account_id).disclaimer or None

    def retention_days(self, account_id: AccountId) -> int | None:
        return self.rules_for(account_id).retention_days

    def retention_plan(self) -> dict[AccountId, int]:
        """Days to keep, per account with a ``retention_days`` rule: what the scheduled retention job
        (``aggregator/archive/retention.py``) enforces (``aggregator.prefs.retention_job``)."""
        plan: dict[AccountId, int] = {}
        for account_id in self._spheres():
            days = self.retention_days(account_id)
            if days is not None:
                plan[account_id] = days
        return plan

    @property
    def templates(self) -> Mapping[str, str]:
        """The organisation's named standard replies."""
        return dict(self._policy.templates) if self._policy is not None else {}

    def logging_required(self, account_id: AccountId) -> Decision:
        """DENY means: logging cannot be turned off for this account (the rule and reason say why)."""
        if self.rules_for(account_id).logging_required:
            return Decision(Verdict.DENY, "logging", "the organisation's policy requires this account to be logged")
        sphere = self.sphere_of(account_id)
        if account_id in self._fail_safe.logging_accounts or sphere in self._fail_safe.logging_spheres:
            return Decision(
                Verdict.DENY,
                "logging",
                "the last valid policy required this account to be logged (the current policy file is unusable)",
            )
        return ALLOW

    def sphere_logging_required(self, sphere: Sphere) -> Decision:
        """DENY means: logging cannot be turned off for this sphere's accounts."""
        policy = self._policy
        if policy is not None and policy.spheres.get(sphere, ScopeRules()).logging_required:
            return Decision(
                Verdict.DENY, "logging", f"the organisation's policy requires {sphere.value} accounts to be logged"
            )
        if sphere in self._fail_safe.logging_spheres:
            return Decision(
                Verdict.DENY,
                "logging",
                f"the last valid policy required {sphere.value} accounts to be logged "
                "(the current policy file is unusable)",
            )
        return ALLOW

    def sphere_retention_days(self, sphere: Sphere) -> int | None:
        """The sphere's ``retention_days`` rule: the most days the user may keep its messages."""
        policy = self._policy
        return None if policy is None else policy.spheres.get(sphere, ScopeRules()).retention_days

    def setting_lock(self, name: str) -> SettingLock | None:
        """Is this setting locked, and why?"""
        policy = self._policy
        if policy is None or name not in policy.locked:
            return None
        where = f" ({policy.source})" if policy.source else ""
        return SettingLock(name, policy.locked[name], f"locked by the organisation's policy{where}")

    def profile_of(self, account_id: AccountId, profile_accounts: Mapping[str, str]) -> ProfileSpec | None:
        """The policy's profile that made this account (``profile_accounts``: profile name -> account id)."""
        if self._policy is None:
            return None
        for spec in self._policy.profiles:
            if profile_accounts.get(spec.name) == account_id:
                return spec
        return None

    def record(self, event: PolicyEvent) -> None:
        """Record a decision taken elsewhere (e.g. a refused settings change)."""
        self._emit(event)
