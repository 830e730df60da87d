"""Sealing keys (``[state] keys``, a section another change adds): read defensively from whatever
settings object carries them; too short a key fails; the fingerprint is equal exactly when two
replicas hold the same keys, and shows nothing of them."""

from __future__ import annotations

from types import SimpleNamespace

from pydantic import SecretBytes, SecretStr

from mcp_workbench.cli.doctor.http import configured_sealing_keys, judge_sealing_keys

LONG_A = "a" * 32
LONG_B = "b" * 40


def _settings(*keys: object) -> SimpleNamespace:
    return SimpleNamespace(state=SimpleNamespace(keys=list(keys)))


def test_settings_without_the_section_read_as_not_configured() -> None:
    assert configured_sealing_keys(SimpleNamespace()) is None
    finding = judge_sealing_keys(None, shared=True)
    assert finding.status == "warn" and "this version has no [state] section" in finding.summary
    assert "same list on every replica" in (finding.fix or "")
    assert judge_sealing_keys([], shared=False).status == "ok"


def test_secret_strings_and_bytes_are_read_alike() -> None:
    keys = configured_sealing_keys(_settings(SecretStr(LONG_A), SecretBytes(LONG_B.encode())))
    assert keys == [LONG_A.encode(), LONG_B.encode()]


def test_a_key_shorter_than_32_bytes_fails_naming_it() -> None:
    finding = judge_sealing_keys([LONG_A.encode(), b"short"], shared=False)
    assert finding.status == "fail" and "key(s) 2 " in finding.summary and "token_urlsafe" in (finding.fix or "")


def test_the_fingerprint_tells_replicas_apart_without_showing_the_keys() -> None:
    one = judge_sealing_keys([LONG_A.encode(), LONG_B.encode()], shared=True)
    same = judge_sealing_keys([LONG_A.encode(), LONG_B.encode()], shared=True)
    other = judge_sealing_keys([LONG_B.encode(), LONG_A.encode()], shared=True)
    assert one.status == "ok" and one.details["fingerprint"] == same.details["fingerprint"]
    assert other.details["fingerprint"] != one.details["fingerprint"]
    assert LONG_A not in one.summary and one.details["fingerprint"] in one.summary
