"""A small results database for the web app's tests: two teams, three agents, a call with
its recording and guessed speakers, hostile names and texts; and one account per role."""

from __future__ import annotations

from pathlib import Path

from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.scoring import score_interactions
from qa_pipeline.settings import Settings
from qa_pipeline.store import Store
from qa_pipeline.web.auth import account

DATA = Path(__file__).parent / "data"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PASSWORDS = {
    "lead": "lead-secret-1",
    "coach": "coach-secret-1",
    "supervisor": "super-secret-1",
    "agent": "agent-secret-1",
    "other": "other-secret-1",
}


def chat(n: int, agent: str, team: str, text: str, name: str | None = None, day: int = 20) -> Interaction:
    return Interaction(
        id=f"chat:t:{n}",
        channel="chat",
        agent_id=agent,
        agent_name=name or agent.upper(),
        team=team,
        language="en",
        started_at=f"2026-11-{day:02d}T10:{n:02d}:00Z",
        turns=[
            Turn(speaker="customer", text="Hello, my refund never arrived and I am angry."),
            Turn(speaker="agent", text=text),
        ],
    )


def interactions() -> list[Interaction]:
    recording = DATA / "calls" / "short-stereo.wav"
    call = Interaction(
        id="call:t:9",
        channel="call",
        agent_id="a1",
        agent_name="Anna",
        team="billing",
        language="en",
        started_at="2026-11-20T09:00:00Z",
        source=str(recording),
        turns=[
            Turn(speaker="agent", text="Good morning, thank you for calling.", start=0.0, end=1.0),
            Turn(speaker="customer", text="My refund is late.", start=1.2, end=2.0),
            Turn(speaker="agent", text="Calm down, you have to wait.", start=2.1, end=3.0),
        ],
        metadata={
            "speaker_attribution": "turn-taking",
            "metrics": {"handle_time_s": 3.2, "agent_talk_ratio": 0.7},
        },
    )
    return [
        chat(
            1,
            "a1",
            "billing",
            "Hello, I'm sorry to hear that. Of course, I have fixed your refund. Thank you!",
        ),
        chat(2, "a1", "billing", "Calm down, you have to wait for the refund."),
        chat(3, "a2", "tech", "Hi! I am sorry, the refund is on its way. Thanks for your patience."),
        chat(4, "a3", "tech", f"Refund done. {XSS}", name=f"Mallory {XSS}"),
        call,
    ]


def populate(store: Store, rubric) -> list[Interaction]:
    items = interactions()
    store.save_interactions(items)
    store.save_scores(score_interactions(items, rubric))
    people = [
        ("lead", "lead", [], None),
        ("coach", "coach", ["billing"], None),
        ("supervisor", "supervisor", ["tech"], None),
        ("agent", "agent", [], "a1"),
        ("other", "agent", [], "a2"),
    ]
    for username, role, teams, agent_id in people:
        store.add_user(account(username, role, teams, agent_id, PASSWORDS[username]), actor="test")
    return items


def settings_for(url: str, data_dir: Path, **web) -> Settings:
    return Settings(database_url=url, data_dir=data_dir, web=web)
