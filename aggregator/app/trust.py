"""Certificate trust as JSON requests on the control socket, so ``aggregator account trust-cert`` works
while an instance runs: ``trust.show`` (``account``) answers with the certificate the running instance
holds for that FAILED account; ``trust.accept`` (``account``, ``fingerprint``) trusts exactly that
certificate and reconnects the account in the running instance; ``trust.pin`` (``account``,
``fingerprint``) pins by fingerprint alone (no failed connection needed), reconnects the account and undoes
the pin when the server presents another certificate.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aggregator.accounts.trust import certificate_lines, pin_and_connect, trust_presented_certificate
from aggregator.api import AccountId, CertificateDetails, ConfigurationError, PolicyError
from aggregator.events import ConnectionState

if TYPE_CHECKING:
    from aggregator.core import Core

log = logging.getLogger(__name__)

OPS = frozenset({"trust.show", "trust.accept", "trust.pin"})
#: How long a request waits for a connecting account to settle (connected, failed or waiting).
SETTLE_WAIT = 45.0
_SETTLED = (ConnectionState.CONNECTED, ConnectionState.FAILED, ConnectionState.WAITING)


def certificate_json(certificate: CertificateDetails) -> dict[str, Any]:
    return {
        "fingerprint": certificate.fingerprint_sha256,
        "lines": [[label, value] for label, value in certificate_lines(certificate)],
    }


async def _settled(core: Core, account_id: AccountId) -> tuple[ConnectionState, str]:
    supervisor = core.accounts.supervisor(account_id)
    if supervisor is None:
        return core.accounts.state(account_id), ""
    try:
        state = await supervisor.wait_for_state(*_SETTLED, timeout=SETTLE_WAIT)
    except TimeoutError:
        state = supervisor.state
    return state, supervisor.reason


async def run(core: Core, request: dict[str, Any]) -> dict[str, Any]:
    """Answer one request; a policy refusal is ``{"ok": false, "policy": true, "rule": ..., "error": ...}``."""
    account_id: AccountId = str(request["account"])
    if account_id not in {a.id for a in core.accounts.configs()}:
        raise ConfigurationError(f"the running instance has no account {account_id}")
    if request["op"] == "trust.show":
        state, reason = await _settled(core, account_id)
        certificate = core.accounts.presented_certificate(account_id)
        return {
            "ok": True,
            "state": state.value,
            "reason": reason,
            "certificate": None if certificate is None else certificate_json(certificate),
        }
    fingerprint = str(request["fingerprint"])
    if request["op"] == "trust.pin":
        try:
            state, reason = await pin_and_connect(core, account_id, fingerprint, SETTLE_WAIT)
        except PolicyError as exc:
            return {"ok": False, "policy": True, "rule": exc.rule, "error": str(exc)}
        return {"ok": True, "state": state.value, "reason": reason}
    try:
        changed = await trust_presented_certificate(core, account_id, fingerprint)
    except PolicyError as exc:
        return {"ok": False, "policy": True, "rule": exc.rule, "error": str(exc)}
    log.info("Trusted a certificate for %s through the control socket", account_id)
    state, reason = await _settled(core, account_id)
    return {"ok": True, "state": state.value, "reason": reason, "pinned_certificate": changed.pinned_certificate}
