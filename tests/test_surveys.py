"""Survey responses: import (CSAT, NPS, CES; bad lines rejected by number, comments redacted,
customers keyed), the KPI definitions, and which criteria go with unhappy customers."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web_data import populate

from qa_pipeline.cli import app as cli
from qa_pipeline.settings import load_settings
from qa_pipeline.surveys import survey_kpis, survey_links

runner = CliRunner()

EXPORT = (
    "ticket_id,type,score,date,customer,comment,scale\n"
    'chat:t:1,nps,10,2026-11-21,ann@example.com,"Great, thanks! Write to ann@example.com",\n'
    "chat:t:1,csat,4,2026-11-21,ann@example.com,,\n"
    "chat:t:2,NPS,11,2026-11-21,,,\n"
    "chat:t:2,nps,7,2026-11-21,,,5\n"
    "chat:t:3,ces,6,2026-11-21,,,\n"
    "chat:t:3,effort,5,2026-11-21,,,\n"
    "chat:t:4,csat,great,2026-11-21,,,\n"
    "nope,csat,5,2026-11-21,,,\n"
    "call:t:9,csat,good,yesterday,,,\n"
    "call:t:9,csat,bad,2026-11-21,,,\n"
)


def configured(store, tmp_path: Path) -> Path:
    config = tmp_path / "qa.toml"
    config.write_text(f'database_url = "{store.url}"\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    return config


def test_import_stores_good_lines_and_rejects_bad_ones_by_number(store, rubric, tmp_path: Path):
    populate(store, rubric)
    export = tmp_path / "surveys.csv"
    export.write_text(EXPORT, encoding="utf-8")
    config = configured(store, tmp_path)
    done = runner.invoke(cli, ["surveys", "import", str(export), "-c", str(config)])
    assert "read 10 = stored 4 + rejected 6 (ces 1, csat 2, nps 1)" in done.output, done.output
    for expected in (
        "surveys.csv:4: score 11 is outside 0..10",
        "surveys.csv:5: an NPS answer is on a 0..10 scale",
        "surveys.csv:7: type 'effort' is not csat, nps or ces",
        "surveys.csv:8: score 'great' is not a number or good/bad",
        "surveys.csv:9: no interaction 'nope'",
        "surveys.csv:10: date 'yesterday' is not YYYY-MM-DD",
    ):
        assert expected in done.output, expected
    stored = store.surveys_of(["chat:t:1", "chat:t:2", "chat:t:3", "call:t:9"])
    assert stored == {
        "chat:t:1": {"nps": (10.0, 10.0), "csat": (4.0, 5.0)},
        "chat:t:3": {"ces": (6.0, 7.0)},  # an answer above 5: a 7-point CES
        "call:t:9": {"csat": (0.0, 1.0)},  # good/bad
    }
    from sqlalchemy import select

    from qa_pipeline.schema import survey_responses

    with store.engine.connect() as conn:
        row = conn.execute(
            select(survey_responses).where(
                survey_responses.c.interaction_id == "chat:t:1", survey_responses.c.kind == "nps"
            )
        ).one()
    assert "ann@example.com" not in row.comment and "[EMAIL]" in row.comment
    key = load_settings(config).redactor().customer_key
    assert key is not None and row.customer_key == key("ann@example.com") != "ann@example.com"


def test_a_file_without_a_type_column_needs_one_given(store, rubric, tmp_path: Path):
    populate(store, rubric)
    export = tmp_path / "nps.csv"
    export.write_text("interaction_id,score\nchat:t:1,9\nchat:t:2,3\n", encoding="utf-8")
    config = configured(store, tmp_path)
    refused = runner.invoke(cli, ["surveys", "import", str(export), "-c", str(config)])
    assert refused.exit_code != 0 and "--type" in refused.output
    done = runner.invoke(cli, ["surveys", "import", str(export), "--type", "nps", "-c", str(config)])
    assert "read 2 = stored 2 + rejected 0 (nps 2)" in done.output, done.output
    again = runner.invoke(cli, ["csat", "import", str(export), "-c", str(config)])  # the old command: CSAT
    assert "(csat 2)" in again.output
    assert store.surveys_of(["chat:t:1"]) == {"chat:t:1": {"nps": (9.0, 10.0), "csat": (9.0, 10.0)}}


def test_kpis_follow_their_definitions():
    answers = [{"nps": (float(s), 10.0)} for s in (10, 9, 9, 8, 7, 6, 0)]
    answers += [{"csat": (float(s), 5.0)} for s in (5, 4, 3, 1)]
    answers += [{"ces": (6.0, 7.0)}, {"ces": (3.0, 5.0)}]
    kpis = survey_kpis(answers)
    promoters, detractors = 3, 2  # 9-10 and 0-6
    assert kpis["nps"]["nps"] == pytest.approx(100 * (promoters - detractors) / 7)
    assert (kpis["nps"]["promoters"], kpis["nps"]["passives"], kpis["nps"]["detractors"]) == (3, 2, 2)
    assert kpis["csat"]["satisfied"] == 50.0 and kpis["csat"]["average"] == 3.25
    # mixed CES scales: the average as a share of each answer's scale
    assert kpis["ces"]["scale"] is None and kpis["ces"]["average"] == pytest.approx((600 / 7 + 60) / 2)
    assert survey_kpis([]) == {}


def test_links_show_which_criteria_go_with_unhappy_customers():
    answers = [5, 5, 4, 2, 1, 2, 4]
    empathy = ["pass", "pass", "pass", "fail", "fail", "fail", "na"]
    rows = [
        {
            "interaction_id": f"i{n}",
            "score": 50.0 + 5 * a,
            "applicable": True,
            "results": {"empathy": e, "thanks": "pass", "greeting": "pass" if n < 2 else "na"},
        }
        for n, (a, e) in enumerate(zip(answers, empathy, strict=True))
    ]
    responses = {f"i{n}": {"csat": (float(a), 5.0)} for n, a in enumerate(answers)}
    links = {(x["kind"], x["criterion"]): x for x in survey_links(rows, responses, {"empathy": "Empathy"})}
    shares = [a / 5 for a in answers]
    judged = [(e == "pass", s) for e, s in zip(empathy, shares, strict=True) if e != "na"]
    link = links[("csat", "empathy")]
    assert link["n"] == 6 and link["name"] == "Empathy"
    assert link["passed"] == pytest.approx(statistics.mean(s for ok, s in judged if ok))
    assert link["failed"] == pytest.approx(statistics.mean(s for ok, s in judged if not ok))
    assert link["r"] == pytest.approx(
        statistics.correlation([float(ok) for ok, _ in judged], [s for _, s in judged])
    )
    assert link["r"] > 0.8  # failing empathy goes with unhappy customers here
    assert links[("csat", "thanks")]["r"] is None  # always passed: nothing to compare
    assert ("csat", "greeting") not in links  # two judged interactions are too few
    assert links[("csat", None)]["r"] == pytest.approx(1.0)  # the QA score follows the answer exactly


def test_csat_ratings_from_before_survey_kinds_are_kept(tmp_path: Path):
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, text

    from qa_pipeline.migrations import upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0011")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO csat (interaction_id, rating, scale, imported_at) VALUES ('chat:x:1', 4, 5, :now)"
            ),
            {"now": datetime.now(UTC)},
        )
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT interaction_id, kind, score, scale FROM survey_responses")).all()
    assert [tuple(r) for r in rows] == [("chat:x:1", "csat", 4.0, 5.0)]
