"""Pulling from a help-desk API: pagination, 429/5xx retries, watermarks (local fake server)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_helpdesk import FakeZendesk

from qa_pipeline.errors import InputError
from qa_pipeline.pipeline import pull_batch
from qa_pipeline.settings import PullSource, Settings
from qa_pipeline.sources.chats import ingest_chats
from qa_pipeline.sources.pull import Pager, pull_source
from qa_pipeline.store import connect, get_watermark, load_interactions, set_watermark


def source(base: str, **extra) -> PullSource:
    return PullSource(
        name="zendesk-billing",
        format="zendesk",
        url=f"{base}/api/v2/incremental/tickets/cursor.json",
        key="tickets",
        since_param="start_time",
        since_format="unix",
        team="billing",
        **extra,
    )


def test_pages_retries_and_expansion(tmp_path: Path):
    waits: list[float] = []
    with FakeZendesk() as api:
        pager = Pager(None, sleep=waits.append, backoff=0.5)
        path, count = pull_source(
            api.base + "/api/v2/incremental/tickets/cursor.json",
            key="tickets",
            since_param="start_time",
            since=None,
            since_format="unix",
            out=tmp_path / "pull.jsonl",
            token=None,
            fmt="zendesk",
            pager=pager,
        )
    assert count == 2
    assert waits[0] == 2.0  # the 429's Retry-After, longer than the back-off
    assert 0.5 in waits  # the 500 on the comments was retried after the back-off
    result = ingest_chats([path], "zendesk")
    first, second = result.interactions
    assert [t.text for t in first.turns][-1].startswith("Hello Jane")  # the second comments page arrived
    assert [t.speaker for t in second.turns] == ["customer", "agent"]  # the private comment stayed hidden
    assert not (tmp_path / "pull.partial").exists()


def test_watermark_goes_into_the_next_pull(tmp_path: Path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qa.db'}", data_dir=tmp_path)
    engine = connect(settings.database_url)
    with FakeZendesk() as api:
        report, started = pull_batch(source(api.base), settings, "run-1", Pager(None, sleep=lambda s: None))
        first_listing = [q for p, q in api.requests if p.endswith("cursor.json")]
        assert all("start_time" not in q for q in first_listing)  # no watermark yet: everything
        set_watermark(engine, "zendesk-billing", started, "run-1")
        pull_batch(source(api.base), settings, "run-2", Pager(None, sleep=lambda s: None))
        later = [q for p, q in api.requests if p.endswith("cursor.json")][len(first_listing) :]
    assert later[0]["start_time"] == [str(int(started.timestamp()))]
    assert report.read == 2 and report.quarantined == 0
    stored = load_interactions(engine, report.ids)
    assert {i.team for i in stored} == {"billing"} and {i.id for i in stored} == {
        "chat:zendesk:501",
        "chat:zendesk:502",
    }


def test_a_failing_api_raises_and_leaves_the_watermark(tmp_path: Path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qa.db'}", data_dir=tmp_path)
    engine = connect(settings.database_url)
    before = datetime(2026, 11, 19, tzinfo=UTC)
    set_watermark(engine, "zendesk-billing", before)
    with FakeZendesk(fail_always=True) as api, pytest.raises(InputError, match="500 after 2 retries"):
        pull_batch(
            source(api.base, retries=2), settings, "run-3", Pager(None, retries=2, sleep=lambda s: None)
        )
    assert get_watermark(engine, "zendesk-billing") == before
    assert not list((tmp_path / "pulls" / "zendesk-billing").glob("*.jsonl"))  # no partial staging file


def test_missing_token_is_a_clear_config_error():
    from qa_pipeline.errors import ConfigError

    settings = Settings()
    with pytest.raises(ConfigError, match="QA_TEST_NO_SUCH_TOKEN"):
        settings.token(
            PullSource(name="x", format="zendesk", url="http://127.0.0.1/", token_env="QA_TEST_NO_SUCH_TOKEN")
        )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3"}, [3.0]),  # seconds until reset
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": None}, [4.0]),  # epoch (Intercom), filled below
        ({"X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "3"}, []),  # quota left: no pause
    ],
)
def test_spent_rate_limit_quota_pauses_until_reset(headers, expected):
    import time

    import httpx

    if headers["X-RateLimit-Reset"] is None:
        headers["X-RateLimit-Reset"] = str(int(time.time()) + 4)
    waits: list[float] = []
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=[], headers=headers))
    Pager(None, sleep=waits.append, transport=transport).get("http://127.0.0.1/x")
    assert len(waits) == len(expected)
    assert all(
        e - 1 <= w <= e for w, e in zip(waits, expected, strict=True)
    )  # an epoch reset loses < 1 s to rounding
