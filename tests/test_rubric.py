import shutil
from pathlib import Path

import pytest
import yaml

from qa_pipeline.errors import RubricError
from qa_pipeline.rubric import load_rubric

ROOT = Path(__file__).parent.parent
FIVE = ["en", "cs", "sl", "lt", "ru"]


def test_default_rubric_has_the_five_criteria_in_five_languages(rubric):
    assert [c.id for c in rubric.criteria] == [
        "greeting",
        "empathy",
        "positive_language",
        "resolution",
        "thanks",
    ]
    assert any(c.critical for c in rubric.criteria)
    for criterion in rubric.criteria:
        assert all(criterion.phrases.get(lang) for lang in FIVE), criterion.id
    assert rubric.ref == f"default@{rubric.version}"


def _write(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((ROOT / "rubrics" / "default.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["criteria"][1].update(weight=-5), r"criterion 'empathy', field 'weight'"),
        (
            lambda d: d["criteria"][0].update(phrases={}, patterns={}),
            r"criterion 'greeting', .*needs at least one phrase",
        ),
        (
            lambda d: d["criteria"][0].update(window={"first_turns": 2, "last_turns": 1}),
            r"criterion 'greeting', field 'window'",
        ),
        (lambda d: d["criteria"][3].update(method="telepathy"), r"criterion 'resolution', field 'method'"),
        (
            lambda d: d["criteria"][1].update(patterns={"en": [[{"LEMMMA": "sorry"}]]}),
            r"criterion 'empathy', field 'patterns.en.0'",
        ),
        (
            lambda d: d["criteria"][1]["phrases"]["en"].append({"text": "sorry", "near": ["x"]}),
            r"criterion 'empathy', field 'phrases.en.\d+.near'",
        ),
        (lambda d: d["criteria"][2].update(colour="red"), r"criterion 'positive_language', field 'colour'"),
        (lambda d: d["criteria"].append(dict(d["criteria"][0])), r"repeated: greeting"),
        (lambda d: d.pop("version"), r"field 'version'"),
    ],
)
def test_errors_name_file_criterion_and_field(tmp_path: Path, change, expected):
    path = _write(tmp_path, change)
    with pytest.raises(RubricError, match=expected) as info:
        load_rubric(path)
    assert str(path) in str(info.value)


def test_every_schema_error_is_reported_at_once(tmp_path: Path):
    def two_mistakes(d):
        d["criteria"][1]["weight"] = -5
        d["criteria"][3]["method"] = "telepathy"

    with pytest.raises(RubricError) as info:
        load_rubric(_write(tmp_path, two_mistakes))
    message = str(info.value)
    assert "2 problems:" in message
    assert (
        "criterion 'empathy', field 'weight'" in message
        and "criterion 'resolution', field 'method'" in message
    )


def test_validate_reports_languages_and_untrained_criteria_together(tmp_path: Path):
    """Unknown codes, packs in undeclared languages, declared languages a criterion has no
    phrases in, and a hybrid criterion the shipped classifier was not trained for: one run,
    every problem, exit 2."""
    from typer.testing import CliRunner

    from qa_pipeline.cli import app as cli

    def mistakes(d):
        d["languages"] = ["en", "cs", "sl", "lt", "ru", "cz"]
        d["criteria"][0]["phrases"]["de"] = ["guten tag"]
        del d["criteria"][4]["phrases"]["lt"]
        d["criteria"].append(
            {
                "id": "hold",
                "name": "Hold",
                "weight": 5,
                "method": "hybrid",
                "phrases": {"en": ["may i put you on hold"]},
            }
        )

    path = _write(tmp_path, mistakes)
    done = CliRunner().invoke(cli, ["rubric", "validate", str(path), str(ROOT / "rubrics" / "default.yaml")])
    assert done.exit_code == 2
    for expected in (
        "unknown language code 'cz'",
        "criterion 'greeting', field 'phrases.de': 'de' is not among the rubric's languages",
        "criterion 'thanks': no phrases or patterns in 'lt'",
        "criterion 'hold', field 'method': 'hybrid' needs the classifier, and turns.skops was not trained for 'hold'",
    ):
        assert expected in done.output, expected
    assert "criterion 'hold': no phrases or patterns in 'cs'" in done.output  # and sl, lt, ru, cz
    assert "ok: " in done.output and "default.yaml: default@" in done.output  # the next file is still checked


def test_missing_and_unparsable_rubrics(tmp_path: Path):
    with pytest.raises(RubricError, match="not found"):
        load_rubric(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("criteria: [unclosed", encoding="utf-8")
    with pytest.raises(RubricError, match="not valid YAML"):
        load_rubric(bad)


def test_team_rubric_extends_default(rubric):
    billing = load_rubric(ROOT / "rubrics" / "billing.yaml")
    assert billing.ref == "billing@1" and billing.extends == "default"
    ids = [c.id for c in billing.criteria]
    assert ids == [c.id for c in rubric.criteria] + ["verification"]
    by_id = {c.id: c for c in billing.criteria}
    assert by_id["resolution"].weight == 35
    assert (
        by_id["resolution"].phrases == {c.id: c for c in rubric.criteria}["resolution"].phrases
    )  # inherited
    assert by_id["verification"].channels == ["call", "chat"]


def test_extends_can_remove_and_replace_one_language(tmp_path: Path):
    shutil.copy(ROOT / "rubrics" / "default.yaml", tmp_path / "default.yaml")
    child = tmp_path / "team.yaml"
    child.write_text(
        "id: team\nversion: 3\nname: Team\nextends: default\nremove: [thanks]\n"
        "criteria:\n  - id: greeting\n    phrases:\n      en: [yo]\n",
        encoding="utf-8",
    )
    team = load_rubric(child)
    greeting = next(c for c in team.criteria if c.id == "greeting")
    assert "thanks" not in [c.id for c in team.criteria]
    assert greeting.phrases["en"] == ["yo"] and "dobrý den" in greeting.phrases["cs"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: a\nversion: 1\nname: A\nextends: default\nremove: [nope]\n", "no criterion 'nope'"),
        ("id: a\nversion: 1\nname: A\nextends: a\n", "circular"),
        ("id: a\nversion: 1\nname: A\nextends: missing\n", "not found"),
    ],
)
def test_bad_extends(tmp_path: Path, text: str, expected: str):
    shutil.copy(ROOT / "rubrics" / "default.yaml", tmp_path / "default.yaml")
    path = tmp_path / "a.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RubricError, match=expected):
        load_rubric(path)


def test_routing_picks_the_first_matching_route():
    from qa_pipeline.settings import Settings

    settings = Settings(
        rubric="rubrics/default.yaml",
        routing=[
            {"team": "billing", "channel": "email", "rubric": "rubrics/billing-email.yaml"},
            {"team": "billing", "rubric": "rubrics/billing.yaml"},
        ],
    )
    assert settings.rubric_path("billing", "email").name == "billing-email.yaml"
    assert settings.rubric_path("billing", "call").name == "billing.yaml"
    assert settings.rubric_path("tech", "call").name == "default.yaml"
    assert settings.rubric_path(None, "chat").name == "default.yaml"


def test_explain_describes_every_criterion_in_plain_words(rubric):
    from qa_pipeline.rubric import explain_rubric

    text = explain_rubric(rubric)
    for c in rubric.criteria:
        assert f"{c.name} ({c.id})" in text
    assert "CRITICAL" in text and "first 2 turn(s)" in text and "fewer than 3 words" in text
    assert '"refund" counts only with' in text
    # an exact phrase says so, and one without other conditions names none
    assert '"chápu" counts as written (no other form of the word).' in text
    assert '"rozumím" counts as written (no other form of the word) only with one of frustrace' in text
