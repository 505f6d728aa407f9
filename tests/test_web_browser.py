"""The web app in a real browser: Debian's Chromium driven by Playwright against `qa serve`'s
application on a local port (make test installs Chromium, as it installs PostgreSQL)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_data import PASSWORDS, populate, settings_for

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def server(tmp_path_factory, rubric) -> Iterator[str]:
    """The app on a free local port, over a SQLite database with the test data."""
    import uvicorn

    from qa_pipeline.store import Store
    from qa_pipeline.web.app import create_app

    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'qa.db'}"
    populate(Store(url), rubric)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings_for(url, folder)), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "the web app did not start"
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no Chromium: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def sign_in(page, server: str, username: str, then: str = "/search") -> None:
    page.goto(f"{server}{then}")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_sign_in_and_out(page, server):
    sign_in(page, server, "coach")
    assert page.url == f"{server}/search"
    assert "coach (coach)" in page.inner_text("header")
    page.click("text=Sign out")
    page.wait_for_url(f"{server}/login")
    page.goto(f"{server}/search")
    assert "/login" in page.url  # the session is gone


def test_an_agent_opening_another_agents_interaction_gets_404(page, server):
    sign_in(page, server, "other")  # agent a2
    assert page.goto(f"{server}/interactions/chat:t:1").status == 404  # agent a1's
    assert "There is nothing here for you." in page.inner_text("main")
    assert page.goto(f"{server}/interactions/chat:t:3").status == 200  # their own


def test_search_to_an_interaction_page(page, server):
    sign_in(page, server, "lead")
    page.fill("input[name=q]", "refund")
    page.select_option("select[name=team]", "billing")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    hits = page.locator("ol.hits a.open")
    assert hits.count() == 3  # billing's three interactions mention a refund
    assert page.locator("ol.hits mark.found").count() >= 3
    hits.first.click()
    page.wait_for_load_state()
    assert "/interactions/" in page.url
    assert page.locator("#conversation li.turn").count() >= 2
    assert page.locator("#criteria tr.result-pass, #criteria tr.result-fail").count() >= 3


def test_a_turn_plays_the_recording_from_where_it_starts(page, server):
    sign_in(page, server, "agent", then="/interactions/call:t:9")
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.locator("#turn-2 button.seek").click()
    position = page.evaluate("document.getElementById('player').currentTime")
    assert position == pytest.approx(2.1, abs=0.25)
    assert "playing" in (page.get_attribute("#turn-2", "class") or "")
    assert page.locator("#guessed").is_visible()  # the mono call says its speakers were guessed


@pytest.mark.parametrize(
    "path",
    [
        "/search?q=refund",
        "/interactions/chat:t:4",
        "/interactions/call:t:9",
        "/interactions/chat:t:2",
        "/audit",
        "/agents/a1?period=week&on=2026-11-20",
        "/teams/tech?period=month&on=2026-11-20",
        "/disputes",
        "/calibration",
    ],
)
def test_no_horizontal_scrolling_at_phone_width(browser, server, path):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    phone = context.new_page()
    try:
        phone.goto(f"{server}/login")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        sign_in(phone, server, "lead", then=path)
        assert phone.url == f"{server}{path}"
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide"
    finally:
        context.close()


def test_screenshots_for_the_record(page, server, tmp_path: Path):
    """Not an assertion of looks: the pages render without a server error in the browser."""
    sign_in(page, server, "lead", then="/interactions/chat:t:2")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    for path in ("/interactions/chat:t:2", "/interactions/call:t:9", "/search?flag=any"):
        assert page.goto(f"{server}{path}").status == 200
    assert errors == []  # no script errors, no Content-Security-Policy violations


def test_a_dispute_from_the_agent_accepted_by_the_lead_shows_on_the_scorecard(browser, server):
    scorecard = f"{server}/agents/a1?period=week&on=2026-11-20"
    rate = "#rate-positive_language td.denominator"
    agent_context = browser.new_context()
    agent = agent_context.new_page()
    sign_in(agent, server, "agent", then="/agents/a1?period=week&on=2026-11-20")
    assert agent.inner_text(rate) == "1 / 3"  # chat 2 and the call lost the point
    agent.goto(f"{server}/interactions/chat:t:2")
    row = agent.locator("#criterion-positive_language")
    row.locator("summary", has_text="Dispute").click()
    row.locator("select[name=requested]").select_option("pass")
    row.locator("select[name=turn]").select_option("1")
    row.locator("textarea[name=comment]").fill("The customer asked for plain words; this is not rude.")
    row.locator("button", has_text="Send the dispute").click()
    agent.wait_for_load_state()
    assert "is open; a QA lead decides it" in agent.inner_text(".notice")

    lead_context = browser.new_context()
    lead = lead_context.new_page()
    sign_in(lead, server, "lead", then="/disputes")
    lead.locator("ul.disputes a", has_text="chat:t:2").click()
    lead.wait_for_load_state()
    lead.fill("form.decide input[name=comment]", "Agreed after reading the whole chat.")
    lead.click("form.decide button[value=accept]")
    lead.wait_for_load_state()
    assert "accepted" in lead.inner_text(".notice")
    assert "the machine said Fail" in lead.inner_text("#criterion-positive_language")

    agent.goto(scorecard)
    assert agent.inner_text(rate) == "2 / 3"
    assert "1 decided in disputes" in agent.inner_text("#rate-positive_language")
    agent_context.close()
    lead_context.close()


def test_a_calibration_session_with_two_graders(browser, server):
    contexts = {name: browser.new_context() for name in ("lead", "coach", "supervisor")}
    pages = {name: context.new_page() for name, context in contexts.items()}
    try:
        lead = pages["lead"]
        sign_in(lead, server, "lead", then="/calibration")
        lead.fill("#new-session input[name=name]", "Week 47")
        lead.fill("#new-session textarea[name=interactions]", "chat:t:1\nchat:t:3")
        lead.check("#new-session input[value=coach]")
        lead.check("#new-session input[value=supervisor]")
        lead.click("#new-session button[type=submit]")
        lead.wait_for_load_state()
        session = lead.url
        assert "/calibration/" in session

        for grader in ("coach", "supervisor"):
            page = pages[grader]
            sign_in(page, server, grader, then="/calibration")
            page.locator("ul.sessions a", has_text="Week 47").click()
            page.wait_for_load_state()
            assert "opens to you once you have graded" in page.inner_text("main")
            page.locator("#to-grade a").first.click()
            for _ in range(2):  # both interactions, one after the other
                page.wait_for_load_state()
                assert page.locator("mark.ev-pass, mark.ev-fail, .badge").count() == 0  # blind
                for fieldset in page.locator("fieldset.grade").all():
                    choice = (
                        "fail" if grader == "supervisor" and "Greeting" in fieldset.inner_text() else "pass"
                    )
                    fieldset.locator(f"input[value={choice}]").check()
                page.click("#grades button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("#to-grade .badge-pass").count() == 2

        lead.goto(session)
        greeting = lead.locator("#agree-greeting")
        assert greeting.locator("td.agreement").inner_text() == "0%"  # they never agreed on it
        assert lead.locator("#agree-empathy td.agreement").inner_text() == "100%"
        assert "coach–supervisor" in greeting.inner_text()
        assert pages["coach"].goto(session).ok and "Agreement" in pages["coach"].inner_text("main")
    finally:
        for context in contexts.values():
            context.close()


def test_static_scorecards_fit_a_phone(browser, tmp_path, rubric):
    """The static scorecards are the app's pages without forms: they fit 390 px as well."""
    from qa_pipeline.rubric import criterion_names
    from qa_pipeline.scorecards import build_scorecards
    from qa_pipeline.store import Store

    store = Store(f"sqlite:///{tmp_path / 'qa.db'}")
    populate(store, rubric)
    files = build_scorecards(
        store, tmp_path / "cards", criteria=criterion_names([Path("rubrics/default.yaml")])
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        phone = context.new_page()
        for page in [files.index, *files.agent_pages]:
            phone.goto(page.resolve().as_uri())
            assert phone.locator("h1").count() == 1
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{page.name} is {width} px wide"
        phone.goto(files.index.resolve().as_uri())
        phone.locator("section.team a").first.click()  # the overview links to the agents' pages
        assert "/agents/" in phone.url and phone.locator("#criteria td.denominator").count() >= 5
    finally:
        context.close()
