from pathlib import Path

import pytest

from qa_pipeline.errors import ConfigError
from qa_pipeline.settings import load_settings


def test_toml_values_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "qa.toml"
    config.write_text(
        'database_url = "sqlite:///a.db"\nbatch_size = 3\n[whisper]\nbeam_size = 2\n', encoding="utf-8"
    )
    monkeypatch.setenv("QA_DATABASE_URL", "postgresql://db/qa")
    settings = load_settings(config)
    assert settings.database_url == "postgresql://db/qa"  # environment wins
    assert settings.batch_size == 3 and settings.whisper.beam_size == 2


def test_bad_setting_names_the_field(tmp_path: Path):
    config = tmp_path / "qa.toml"
    config.write_text("batch_size = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="batch_size"):
        load_settings(config)


def test_missing_config_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_unknown_setting_is_rejected(tmp_path: Path):
    config = tmp_path / "qa.toml"
    config.write_text('databse_url = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="databse_url"):
        load_settings(config)


def test_chat_sources_per_help_desk_and_team(tmp_path: Path, data: Path):
    from qa_pipeline.pipeline import chat_groups, discover

    config = tmp_path / "qa.toml"
    config.write_text(
        f"""
[sources]
chats = ["{data / "chats"}/export.json",
         {{path = "{data / "helpdesk"}/zendesk.json", format = "zendesk", team = "billing"}},
         {{path = "{data / "helpdesk"}/*.jsonl", format = "freshdesk", team = "tech"}}]
""",
        encoding="utf-8",
    )
    settings = load_settings(config)
    groups = [(s.format, s.team, [p.name for p in paths]) for s, paths in chat_groups(settings, None)]
    assert groups == [
        (None, None, ["export.json"]),
        ("zendesk", "billing", ["zendesk.json"]),
        ("freshdesk", "tech", ["freshdesk.jsonl"]),
    ]
    assert len(discover(settings, None)["chat"]) == 3


def test_relative_paths_in_a_config_file_are_read_from_its_folder(tmp_path, monkeypatch):
    from datetime import date

    from qa_pipeline.pipeline import discover, unmatched_sources

    night = tmp_path / "mynight"
    (night / "chats").mkdir(parents=True)
    (night / "chats" / "a.json").write_text("[]")
    (night / "qa.toml").write_text(
        'database_url = "sqlite:///state/qa.db"\ndata_dir = "state"\nrubric = "../rubrics/x.yaml"\n'
        '[[routing]]\nteam = "t"\nrubric = "team.yaml"\n'
        '[sources]\nchats = ["chats/*.json", {path = "chats/{date}.json", format = "zendesk"}]\n'
        'emails = ["mail/*.mbox"]\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(Path("../mynight/qa.toml"))
    assert settings.database_url == f"sqlite:///{night / 'state' / 'qa.db'}"
    assert settings.data_dir == night / "state" and settings.rubric == tmp_path / "rubrics" / "x.yaml"
    assert settings.routing[0].rubric == night / "team.yaml"
    assert discover(settings, date(2026, 11, 20))["chat"] == [night / "chats" / "a.json"]
    warnings = unmatched_sources(settings, date(2026, 11, 20))
    assert len(warnings) == 2  # the dated chat file and the mail folder find nothing
    assert any("sources.emails" in w and "mail/*.mbox" in w for w in warnings)
    assert any("for 2026-11-20" in w for w in warnings)


def test_a_config_written_from_the_working_directory_still_works(tmp_path, monkeypatch):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "qa.toml").write_text('[sources]\nemails = ["inbox/*.mbox"]\n')
    monkeypatch.chdir(tmp_path)
    # "inbox" exists here and not next to the config: the old reading is kept
    assert load_settings(Path("conf/qa.toml")).sources.emails == ["inbox/*.mbox"]
