"""``[state]``: sealing keys from the environment or the file, and the seal/unseal helper for tools'
own continuation tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_workbench.platform.errors import InvalidInput
from mcp_workbench.platform.sealing import Sealer, request_state_security, secrets_of
from mcp_workbench.settings import ConfigError, load_settings

KEY_A = "a" * 32
KEY_B = "b" * 40


def test_keys_come_from_the_environment_comma_separated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_STATE__KEYS", f"{KEY_A},{KEY_B}")
    monkeypatch.setenv("WORKBENCH_STATE__TTL_S", "900")
    state = load_settings(None, data_dir=tmp_path).state
    assert [k.get_secret_value() for k in state.keys] == [KEY_A, KEY_B]
    assert state.ttl_s == 900 and state.max_bytes == 262_144
    assert KEY_A not in repr(state)  # secrets stay out of logs and tracebacks


def test_keys_come_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[state]\nkeys = ["{KEY_A}"]\nmax_bytes = 65536\n', encoding="utf-8")
    state = load_settings(config, data_dir=tmp_path).state
    assert [k.get_secret_value() for k in state.keys] == [KEY_A] and state.max_bytes == 65536


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('[state]\nkeys = ["short"]\n', "state.keys: key 0 has 5 bytes; each key needs at least 32"),
        (f'[state]\nkeys = ["{KEY_A}", "{KEY_A}"]\n', "state.keys: the same key is listed twice"),
        ("[state]\nttl_s = 10\n", "state.ttl_s"),
        ("[state]\nsecret = 1\n", "state.secret: unknown key"),
    ],
)
def test_bad_state_settings_name_the_key(tmp_path: Path, toml: str, fragment: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        load_settings(config, data_dir=tmp_path)


def test_without_keys_each_process_seals_under_its_own_key(tmp_path: Path) -> None:
    state = load_settings(None, data_dir=tmp_path).state
    first, second = secrets_of(state), secrets_of(state)
    assert len(first[0]) == 32 and first != second
    assert request_state_security(state, first).ttl == 1800


def test_a_continuation_token_comes_back_only_for_its_purpose_binding_and_keys() -> None:
    sealer = Sealer([KEY_A.encode(), KEY_B.encode()], ttl_s=60)
    token = sealer.seal("research", {"next": 20, "run": "é"}, binding="caller:key:1|args:abc")
    assert sealer.unseal("research", token, binding="caller:key:1|args:abc") == {"next": 20, "run": "é"}
    rotated = Sealer([KEY_B.encode(), KEY_A.encode()], ttl_s=60)  # the old first key still unseals
    assert rotated.unseal("research", token, binding="caller:key:1|args:abc")["next"] == 20
    refusals = {
        "made for something else": lambda: sealer.unseal("analysis", token, binding="caller:key:1|args:abc"),
        "belongs to other arguments or another caller": lambda: sealer.unseal("research", token, binding="x"),
        "not made by this server": lambda: Sealer([KEY_B.encode()], ttl_s=60).unseal(
            "research", token, binding="caller:key:1|args:abc"
        ),
        "not made by this server ": lambda: sealer.unseal("research", token[:-4] + "AAAA", binding=""),
    }
    for why, attempt in refusals.items():
        with pytest.raises(InvalidInput, match=why.strip()) as refused:
            attempt()
        assert refused.value.recovery_steps and refused.value.details["purpose"] in {"research", "analysis"}


def test_an_expired_token_is_refused() -> None:
    sealer = Sealer([KEY_A.encode()], ttl_s=-1)
    token = sealer.seal("research", {"n": 1})
    with pytest.raises(InvalidInput, match="expired"):
        sealer.unseal("research", token)


def test_a_continuation_token_is_never_a_request_state() -> None:
    """Tokens are sealed under keys derived for that use alone: the SDK's codec cannot open them."""
    from mcp.server.request_state import InvalidRequestState

    token = Sealer([KEY_A.encode()], ttl_s=60).seal("research", {"n": 1})
    codec = request_state_security(load_settings(None, state={"keys": [KEY_A]}).state, [KEY_A.encode()]).codec
    with pytest.raises(InvalidRequestState):
        codec.unseal(token)


def test_workers_started_together_share_a_key_made_for_them(tmp_path: Path) -> None:
    from mcp_workbench.platform.sealing import shared_by_processes

    state = load_settings(None, data_dir=tmp_path).state
    shared = shared_by_processes(state)
    assert len(shared.keys) == 1 and len(secrets_of(shared)[0]) == 64
    assert secrets_of(shared) == secrets_of(shared)  # every worker unseals what another sealed
    configured = load_settings(None, data_dir=tmp_path, state={"keys": [KEY_A]}).state
    assert shared_by_processes(configured) is configured
