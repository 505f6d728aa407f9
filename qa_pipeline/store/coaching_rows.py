"""Calibration sessions and grades, coaching comments and sessions, and CSAT ratings in the
results database; every change is audited in its own transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from qa_pipeline.schema import (
    calibration_grades,
    calibration_sessions,
    coaching_sessions,
    comments,
    newest_scores,
    survey_responses,
)
from qa_pipeline.store.account_rows import write_audit
from qa_pipeline.store.interaction_rows import in_scope


def create_calibration(
    engine: Engine, name: str, interaction_ids: list[str], graders: list[str], actor: str
) -> int:
    with engine.begin() as conn:
        row = {
            "name": name,
            "created_by": actor,
            "created_at": datetime.now(UTC),
            "interactions": interaction_ids,
            "graders": graders,
        }
        new_id = int(conn.execute(insert(calibration_sessions).values(**row)).inserted_primary_key[0])  # type: ignore[index]
        after = {"name": name, "interactions": interaction_ids, "graders": graders}
        write_audit(conn, actor, "calibration.create", f"calibration #{new_id}", None, after)
    return new_id


def calibrations(engine: Engine, session_id: int | None = None) -> list[Any]:
    query = select(calibration_sessions).order_by(calibration_sessions.c.id.desc())
    if session_id is not None:
        query = query.where(calibration_sessions.c.id == session_id)
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def save_grades(
    engine: Engine, session_id: int, interaction_id: str, grader: str, results: dict[str, str]
) -> None:
    """One grader's results for one interaction of a session (a second save replaces them)."""
    now = datetime.now(UTC)
    mine = (
        (calibration_grades.c.session_id == session_id)
        & (calibration_grades.c.interaction_id == interaction_id)
        & (calibration_grades.c.grader == grader)
    )
    with engine.begin() as conn:
        before = {r.criterion: r.result for r in conn.execute(select(calibration_grades).where(mine))}
        conn.execute(delete(calibration_grades).where(mine))
        conn.execute(
            insert(calibration_grades),
            [
                {
                    "session_id": session_id,
                    "interaction_id": interaction_id,
                    "grader": grader,
                    "criterion": criterion,
                    "result": result,
                    "graded_at": now,
                }
                for criterion, result in results.items()
            ],
        )
        target = f"calibration #{session_id} {interaction_id}"
        write_audit(conn, grader, "calibration.grade", target, before or None, results)


def grades(engine: Engine, session_id: int) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(calibration_grades).where(calibration_grades.c.session_id == session_id))
        )


def add_comment(engine: Engine, interaction_id: str, criterion: str | None, text: str, actor: str) -> int:
    with engine.begin() as conn:
        row = {
            "interaction_id": interaction_id,
            "criterion": criterion,
            "author": actor,
            "written_at": datetime.now(UTC),
            "text": text,
        }
        new_id = int(conn.execute(insert(comments).values(**row)).inserted_primary_key[0])  # type: ignore[index]
        shown = {"interaction_id": interaction_id, "criterion": criterion, "text": text}
        write_audit(conn, actor, "comment.add", f"comment #{new_id}", None, shown)
    return new_id


def find_comments(engine: Engine, interaction_ids: Sequence[str]) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(comments)
                .where(comments.c.interaction_id.in_(list(interaction_ids)))
                .order_by(comments.c.id)
            )
        )


def add_coaching(engine: Engine, record: dict[str, Any], actor: str) -> int:
    with engine.begin() as conn:
        row = {**record, "coach": actor, "held_at": datetime.now(UTC)}
        new_id = int(conn.execute(insert(coaching_sessions).values(**row)).inserted_primary_key[0])  # type: ignore[index]
        write_audit(conn, actor, "coaching.add", f"coaching #{new_id}", None, record)
    return new_id


def find_coaching(engine: Engine, agent_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(coaching_sessions)
                .where(coaching_sessions.c.agent_id == agent_id)
                .order_by(coaching_sessions.c.id.desc())
            )
        )


def save_surveys(engine: Engine, rows: list[dict[str, Any]], source: str, actor: str) -> None:
    """Survey responses by interaction and kind: a later import of the same interaction and
    kind replaces its response."""
    if not rows:
        return
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for kind in {r["kind"] for r in rows}:
            ids = [r["interaction_id"] for r in rows if r["kind"] == kind]
            for start in range(0, len(ids), 500):
                conn.execute(
                    delete(survey_responses).where(
                        survey_responses.c.kind == kind,
                        survey_responses.c.interaction_id.in_(ids[start : start + 500]),
                    )
                )
        conn.execute(
            insert(survey_responses), [{**r, "source_file": source, "imported_at": now} for r in rows]
        )
        counts = {k: sum(r["kind"] == k for r in rows) for k in sorted({r["kind"] for r in rows})}
        write_audit(conn, actor, "surveys.import", source, None, {"responses": counts})


ANSWER_COLUMNS = (
    survey_responses.c.interaction_id,
    survey_responses.c.kind,
    survey_responses.c.score,
    survey_responses.c.scale,
)
Answers = dict[str, dict[str, tuple[float, float]]]


def _fold_answers(found: Iterable[Any], into: Answers) -> Answers:
    """Rows of ``ANSWER_COLUMNS`` as {interaction: {kind: (score, scale)}}."""
    for iid, kind, score, scale in found:
        into.setdefault(iid, {})[kind] = (score, scale)
    return into


def period_surveys(
    engine: Engine,
    agents: Sequence[str] | None,
    teams: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
) -> Answers:
    """``surveys_of`` the scored interactions of these agents and/or teams started in
    [since, until)."""
    query = (
        select(*ANSWER_COLUMNS)
        .join(newest_scores, newest_scores.c.interaction_id == survey_responses.c.interaction_id)
        .where(*in_scope(agents, teams, since, until, newest_scores))
    )
    with engine.connect() as conn:
        return _fold_answers(conn.execute(query), {})


def surveys_of(engine: Engine, interaction_ids: Sequence[str]) -> Answers:
    """{interaction: {kind: (score, scale)}} for the interactions that have responses."""
    found: Answers = {}
    with engine.connect() as conn:
        if conn.execute(select(survey_responses.c.interaction_id).limit(1)).first() is None:
            return found  # none imported: a team week's 5,040 ids cost PostgreSQL 50 ms to look up
        for start in range(0, len(interaction_ids), 500):
            chunk = list(interaction_ids[start : start + 500])
            _fold_answers(
                conn.execute(select(*ANSWER_COLUMNS).where(survey_responses.c.interaction_id.in_(chunk))),
                found,
            )
    return found


def match_interactions(engine: Engine, values: Sequence[str]) -> dict[str, list[str]]:
    """For each value, the interactions it names: its own id, or else the interactions whose
    help-desk id it is (``48213`` names ``chat:zendesk:48213``). One scan of the ids at most."""
    from qa_pipeline.schema import interactions

    wanted = {v for v in values if v}
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        listed = list(wanted)
        for start in range(0, len(listed), 500):
            chunk = listed[start : start + 500]
            for (iid,) in conn.execute(select(interactions.c.id).where(interactions.c.id.in_(chunk))):
                found[iid] = [iid]
        rest = wanted - set(found)
        if rest:
            for (iid,) in conn.execute(select(interactions.c.id)):
                native = iid.rsplit(":", 1)[-1]
                if native in rest:
                    found.setdefault(native, []).append(iid)
    return found
