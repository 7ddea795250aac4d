"""A failed account's reason in words a person understands, with the raw condition kept as details."""

from __future__ import annotations

import pytest

from aggregator.app.failures import explain

CASES = [
    ("localhost refused the login of bob@localhost (not-authorized)", "did not accept the address or the password"),
    ("@bob:localhost: M_FORBIDDEN: Invalid username or password", "did not accept the address or the password"),
    ("item-not-found", "does not know this account"),
    (
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate",
        "certificate could not be verified",
    ),
    ("[Errno 111] Connect call failed ('127.0.0.1', 5222): Connection refused", "refused the connection"),
    ("[Errno -3] Temporary failure in name resolution", "name could not be found"),
    ("[Errno -2] Name or service not known", "name could not be found"),
    ("no answer from the server within 20 s", "did not answer in time"),
]


@pytest.mark.parametrize(("raw", "words"), CASES)
def test_jargon_gets_a_sentence_and_keeps_the_raw_condition(raw: str, words: str) -> None:
    explained = explain(raw)
    assert words in explained.sentence
    assert raw not in explained.sentence and explained.details == raw
    assert explained.sentence[0].isupper() and explained.sentence.endswith(".")
    assert raw in explained.full


def test_an_unknown_reason_is_shown_as_it_is() -> None:
    explained = explain("the disk is full; the account is held")
    assert explained.sentence == "the disk is full; the account is held" and explained.details == ""
    assert explained.full == explained.sentence
