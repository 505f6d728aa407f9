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
        (lambda d: d["criteria"][0].update(phrases={}), r"criterion 'greeting', field 'phrases'"),
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


def test_missing_and_unparsable_rubrics(tmp_path: Path):
    with pytest.raises(RubricError, match="not found"):
        load_rubric(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("criteria: [unclosed", encoding="utf-8")
    with pytest.raises(RubricError, match="not valid YAML"):
        load_rubric(bad)
