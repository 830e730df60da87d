"""Configuration layers (defaults < file < environment < CLI) and readable refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import get_origin
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from mcp_workbench.cli.main import main
from mcp_workbench.settings import ConfigError, Settings, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_give_one_workspace_sqlite_source_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path)
    sources = settings.sources()
    assert list(sources) == ["workspace"]
    assert sources["workspace"].url == f"sqlite:///{(tmp_path / 'workspace.db').resolve()}"
    assert settings.transport == "stdio"
    assert (settings.http.host, settings.http.port, settings.http.path) == ("127.0.0.1", 8000, "/mcp")
    assert settings.http.host_origin_protection is True


def test_each_layer_overrides_the_one_below(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(
        tmp_path / "c.toml",
        '[http]\nport = 9001\nhost = "127.0.0.2"\npath = "/file"\n[data]\nmax_rows = 11\ndefault_limit = 5\n',
    )
    from_file = load_settings(config)
    assert (from_file.http.port, from_file.http.host, from_file.data.max_rows) == (9001, "127.0.0.2", 11)

    monkeypatch.setenv("WORKBENCH_HTTP__PORT", "9002")
    monkeypatch.setenv("WORKBENCH_DATA__MAX_ROWS", "12")
    from_env = load_settings(config)
    assert (from_env.http.port, from_env.http.host, from_env.data.max_rows) == (9002, "127.0.0.2", 12)
    assert from_env.data.default_limit == 5  # untouched file values survive a nested env override

    from_cli = load_settings(config, http={"port": 9003})
    assert (from_cli.http.port, from_cli.http.host, from_cli.http.path) == (9003, "127.0.0.2", "/file")


def test_config_file_comes_from_workbench_config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "env.toml", '[data.sources.archive]\nurl = "sqlite:///archive.db"\nread_only = true\n')
    monkeypatch.setenv("WORKBENCH_CONFIG", str(config))
    settings = load_settings(None, data_dir=tmp_path)
    assert list(settings.sources()) == ["workspace", "archive"]
    assert settings.sources()["archive"].read_only is True


def test_the_default_config_location_is_used_when_present(tmp_path: Path) -> None:
    from mcp_workbench.settings import default_config_path

    path = default_config_path()  # under the test's XDG_CONFIG_HOME
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, 'log_level = "debug"\n')
    assert load_settings(None).log_level == "DEBUG"


def test_workbench_data_dir_sets_where_the_workspace_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "state"))
    assert load_settings(None).sources()["workspace"].url.endswith("/state/workspace.db")


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("[data]\nmax_rows = 0\n", "data.max_rows: Input should be greater than or equal to 1"),
        ("[data]\nmax_rowz = 5\n", "data.max_rowz: unknown key"),
        ('[data.sources.x]\nurl = "mysql://h/db"\n', "data.sources.x.url: unsupported database URL scheme 'mysql'"),
        ('[data.sources."bad name"]\nurl = "sqlite:///a.db"\n', "must match"),
        ('[http]\npath = "mcp"\n', "http.path: must start with '/'"),
        ('transport = "carrier-pigeon"\n', "transport: Input should be 'stdio' or 'http'"),
        ("[http\n", "is not valid TOML"),
        ("[http]\nmax_sessions = 4\nmax_sessions_per_caller = 5\n", "cannot exceed max_sessions"),
        ("[http]\nheader_timeout_s = 0\n", "http.header_timeout_s: Input should be greater than 0"),
        ("[http.jwt]\nleeway_s = -1\n", "http.jwt.leeway_s: Input should be greater than or equal to 0"),
        ("[http.jwt]\nleeway_s = 60\n", "http.jwt.leeway_s: Input should be less than or equal to 30"),
    ],
)
def test_bad_configuration_names_the_key_and_what_is_allowed(tmp_path: Path, toml: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path / "bad.toml", toml))
    assert fragment in str(raised.value)


def test_a_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.toml")


def test_serve_with_a_bad_config_exits_2_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    config = write(tmp_path / "bad.toml", "[data]\nmax_rows = -5\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_workbench", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 2
    assert "data.max_rows" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_cli_flags_reach_the_settings(tmp_path: Path) -> None:
    from mcp_workbench.cli.main import build_parser, overrides_from

    args = build_parser().parse_args(
        [
            "serve",
            "--transport",
            "http",
            "--port",
            "9100",
            "--host",
            "127.0.0.1",
            "--data-dir",
            str(tmp_path),
            "--log-level",
            "warning",
        ]
    )
    settings = load_settings(None, **overrides_from(args))
    assert settings.transport == "http" and settings.http.port == 9100 and settings.log_level == "WARNING"
    assert settings.data_dir == tmp_path


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("mcp-workbench ")


def test_root_flags_get_simple_unique_names(tmp_path: Path) -> None:
    from mcp_workbench.cli.main import cli_roots

    (tmp_path / "a" / "src").mkdir(parents=True)
    (tmp_path / "b" / "src").mkdir(parents=True)
    (tmp_path / "My Documents").mkdir()
    roots = cli_roots([tmp_path / "a" / "src", tmp_path / "b" / "src", tmp_path / "My Documents"])
    assert list(roots) == ["src", "src-2", "My_Documents"]
    settings = load_settings(None, files={"roots": roots})
    assert sorted(settings.files.roots) == ["My_Documents", "src", "src-2"]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("WORKBENCH_TOOLS", "data,web", ["data", "web"]),
        ("WORKBENCH_TOOLS", " data , files ", ["data", "files"]),
        ("WORKBENCH_TOOLS", "web", ["web"]),
        ("WORKBENCH_TOOLS", '["data", "web"]', ["data", "web"]),
        ("WORKBENCH_WEB__ALLOW_HOSTS", "127.0.0.1", ["127.0.0.1"]),
        ("WORKBENCH_WEB__ALLOW_HOSTS", "127.0.0.1,10.0.0.0/8", ["127.0.0.1", "10.0.0.0/8"]),
        ("WORKBENCH_HTTP__ALLOWED_HOSTS", "a.example, b.example", ["a.example", "b.example"]),
    ],
)
def test_list_settings_from_the_environment_may_be_comma_separated_or_json(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv(variable, value)
    settings = load_settings(None)
    section, _, key = variable.removeprefix("WORKBENCH_").lower().rpartition("__")
    assert getattr(getattr(settings, section) if section else settings, key) == expected


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("WORKBENCH_TOOLS", "data,webb", "tools"),
        ("WORKBENCH_LIMITS__TOOLS", "data_read=5/minute", "WORKBENCH_LIMITS__TOOLS"),
        ("WORKBENCH_DATA__SOURCES", "postgresql://x", "WORKBENCH_DATA__SOURCES"),
        ("WORKBENCH_HTTP", "port=1", "WORKBENCH_HTTP"),
        ("WORKBENCH_DATA__SOURCES", '{"pg": {"url": "postgresql://wb@db:port/x"}}', "data.sources.pg.url"),
        ("WORKBENCH_HTTP__PORT", "eighty", "http.port"),
    ],
)
def test_a_bad_environment_value_exits_2_naming_the_key_without_a_traceback(
    tmp_path: Path, variable: str, value: str, named: str
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_workbench", "serve", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**_clean_environment(), variable: value},
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert named in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}


def test_allow_host_flags_open_hosts_for_web_fetch(tmp_path: Path) -> None:
    from mcp_workbench.cli.main import build_parser, overrides_from

    args = build_parser().parse_args(["serve", "--allow-host", "127.0.0.1", "--allow-host", "10.0.0.0/8"])
    assert load_settings(None, **overrides_from(args)).web.allow_hosts == ["127.0.0.1", "10.0.0.0/8"]
    bad = build_parser().parse_args(["serve", "--allow-host", "not a host!"])
    with pytest.raises(ConfigError, match=r"web\.allow_hosts"):
        load_settings(None, **overrides_from(bad))


def _variables(model: type[BaseModel], prefix: str = "WORKBENCH_") -> list[str]:
    """Every environment variable the settings model reads, nested sections included."""
    names = []
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        names.append(variable)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.extend(_variables(annotation, f"{variable}__"))
        elif get_origin(annotation) is dict:
            names.append(f"{variable}__X")
    return names


_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", ",", "[", "{", "null", "true", "1e999", "-1", "0", "[1]", '{"a": 1}', "data,web"]),
    st.lists(st.text(alphabet="abcdefghij0123456789./:*-", max_size=12), max_size=4).map(",".join),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    ).map(json.dumps),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(environment=st.dictionaries(st.sampled_from(_variables(Settings)), _VALUES, max_size=4))
def test_any_environment_gives_settings_or_a_config_error_naming_a_key(
    environment: dict[str, str], tmp_path: Path
) -> None:
    environment = {key: value.replace("\0", "") for key, value in environment.items()}
    with patch.dict(os.environ, {**environment, "WORKBENCH_DATA_DIR": str(tmp_path)}):
        try:
            load_settings(None)
        except ConfigError as exc:
            message = str(exc)
            assert message.startswith("invalid configuration") or "config file" in message
            named = [line.split(":", 1)[0].strip() for line in message.splitlines()[1:]] or [message]
            assert named and all(name for name in named), message
