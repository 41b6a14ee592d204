from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from personal_memory.config import load_settings


def test_defaults_live_under_pmem_home(isolated_home: Path) -> None:
    settings = load_settings()
    assert settings.home == isolated_home
    assert settings.paths.persistent == isolated_home / "data" / "persistent" / "core.sqlite"
    assert settings.host == "127.0.0.1" and settings.short_term_ttl_hours == 48


def test_config_file_then_env_then_flags(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_home / "config").mkdir(parents=True)
    (isolated_home / "config" / "default.toml").write_text('short_term_ttl_hours = 24\nport = 9000\nhost = "::1"\n')
    monkeypatch.setenv("PMEM_PORT", "9100")
    settings = load_settings(host="127.0.0.2")
    assert settings.short_term_ttl_hours == 24 and settings.port == 9100 and settings.host == "127.0.0.2"


def test_ttl_outside_24_to_72_hours_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMEM_SHORT_TERM_TTL_HOURS", "200")
    with pytest.raises(ValidationError):
        load_settings()
