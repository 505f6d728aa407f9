"""The web app over HTTP (no browser): sign-in, sessions, CSRF, role scoping, escaping,
hostile parameters, the interaction and search pages, and the accounts commands."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote_plus

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_data import PASSWORDS, XSS, populate, settings_for

from qa_pipeline.cli import app as cli
from qa_pipeline.search import SearchFilters
from qa_pipeline.web.app import SESSION_COOKIE, create_app

runner = CliRunner()


@pytest.fixture
def site(store, rubric, tmp_path: Path):
    populate(store, rubric)
    return create_app(settings_for(store.url, tmp_path))


def client(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def sign_in(c: TestClient, username: str, password: str | None = None, next_page: str = "/") -> object:
    form = c.get("/login")
    token = re.search(r'name="token" value="([^"]+)"', form.text).group(1)
    return c.post(
        "/login",
        data={
            "token": token,
            "username": username,
            "password": password or PASSWORDS[username],
            "next": next_page,
        },
    )


def csrf_of(c: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get("/search").text).group(1)


def test_sign_in_and_out(site):
    c = client(site)
    assert c.get("/search").headers["location"] == "/login?next=%2Fsearch"
    wrong = sign_in(c, "lead", "not-the-password")
    assert "Wrong+username+or+password" in wrong.headers["location"] and SESSION_COOKIE not in c.cookies
    done = sign_in(c, "lead", next_page="/interactions/chat:t:1")
    assert done.status_code == 303 and done.headers["location"] == "/interactions/chat:t:1"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert c.get("/search").status_code == 200
    out = c.post("/logout", data={"csrf": csrf_of(c)})
    assert out.headers["location"] == "/login"
    assert c.get("/search").status_code == 303  # signed out: back to the sign-in page


def test_next_never_leaves_the_site(site):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        c = client(site)
        assert sign_in(c, "lead", next_page=target).headers["location"] == "/"


def test_no_page_but_login_without_a_session(site):
    c = client(site)
    for route in site.routes:
        path = getattr(route, "path", "")
        if path.startswith(("/static", "/login", "/favicon.ico")) or not path:
            continue
        url = re.sub(r"\{[^}]+\}", "chat:t:1", path)
        for method in sorted(getattr(route, "methods", None) or ["GET"]):
            if method == "HEAD":
                continue
            response = c.request(method, url)
            assert response.status_code in (303, 401), (method, url)
            assert "chat:t:1" not in response.text and "refund" not in response.text
    assert c.get("/login").status_code == 200
    assert c.get("/static/app.css").status_code == 200


def test_forms_without_the_csrf_token_are_refused(site):
    c = client(site)
    sign_in(c, "lead")
    assert c.post("/logout", data={}).status_code == 403
    assert c.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert c.get("/search").status_code == 200  # still signed in
    fresh = client(site)
    assert fresh.post("/login", data={"username": "lead", "password": PASSWORDS["lead"]}).status_code == 403


def test_signing_in_never_keeps_a_session_id_from_before(site):
    c = client(site)
    sign_in(c, "other")
    planted = c.cookies[SESSION_COOKIE]  # an id somebody could have set in the victim's browser
    sign_in(c, "lead")
    assert c.cookies[SESSION_COOKIE] != planted
    stale = client(site)
    stale.cookies.set(SESSION_COOKIE, planted)
    assert stale.get("/search").status_code == 303  # the old id died at the new sign-in
    forged = client(site)
    forged.cookies.set(SESSION_COOKIE, planted.rsplit(".", 1)[0] + ".bad-signature")
    assert forged.get("/search").status_code == 303


def test_roles_see_only_their_interactions(site):
    expectations = {
        "lead": {"chat:t:1", "chat:t:2", "chat:t:3", "chat:t:4", "call:t:9"},
        "coach": {"chat:t:1", "chat:t:2", "call:t:9"},  # team billing
        "supervisor": {"chat:t:3", "chat:t:4"},  # team tech
        "agent": {"chat:t:1", "chat:t:2", "call:t:9"},  # agent a1
        "other": {"chat:t:3"},  # agent a2
    }
    everything = expectations["lead"]
    for username, visible in expectations.items():
        c = client(site)
        sign_in(c, username)
        for interaction_id in everything:
            status = c.get(f"/interactions/{interaction_id}").status_code
            assert status == (200 if interaction_id in visible else 404), (username, interaction_id)
        found = set(re.findall(r'href="/interactions/([^"#]+)', c.get("/search?q=refund").text))
        assert {f.replace("%3A", ":") for f in found} == visible, username
        assert c.get("/interactions/chat:t:999").status_code == 404  # the same answer as out of scope
        assert c.get("/audit").status_code == (200 if username == "lead" else 404)


def test_the_interaction_page_shows_the_conversation_and_why(site):
    c = client(site)
    sign_in(c, "lead")
    page = c.get("/interactions/chat:t:2").text
    assert "my refund never arrived" in page  # the customer's side too
    assert 'class="ev-fail"' in page and "lost a point" in page  # the legend names the colours
    assert "Negative language by the agent".lower() in page.lower()
    assert not re.search(r"p=0\.\d|classifier", page)  # plain words, no raw probabilities
    good = c.get("/interactions/chat:t:1").text
    assert 'class="ev-pass"' in good
    call = c.get("/interactions/call:t:9").text
    assert 'id="guessed"' in call and "Agent?" in call  # mono: speakers were guessed
    assert 'data-start="2.1"' in call and "/audio/call%3At%3A9" in call
    assert "Handle time" in call and "0:03" in call and "70%" in call
    audio = c.get("/audio/call:t:9")
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    assert c.get("/audio/chat:t:1").status_code == 404


def test_names_texts_and_filters_are_escaped(site):
    c = client(site)
    sign_in(c, "lead")
    for url in ("/interactions/chat:t:4", "/search?q=refund", f"/search?q={XSS}", f"/search?team={XSS}"):
        page = c.get(url)
        assert page.status_code == 200, url
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, url
    assert "&lt;script&gt;" in c.get("/interactions/chat:t:4").text
    assert "script-src 'self'" in c.get("/search").headers["content-security-policy"]


HOSTILE = [
    "' OR 1=1 --",
    '"; DROP TABLE users; --',
    "a1' UNION SELECT password_hash FROM users --",
    "%",
    "*",
    "\x00",
]


def test_sql_in_every_parameter_is_harmless(site, store):
    c = client(site)
    sign_in(c, "other")  # an agent: scoping must hold whatever the parameters say
    before = store.table_counts()
    params = [
        "q",
        "agent",
        "team",
        "channel",
        "flag",
        "failed",
        "since",
        "until",
        "min_score",
        "max_score",
        "page",
    ]
    for name in params:
        for value in HOSTILE:
            page = c.get("/search", params={name: value})
            assert page.status_code == 200, (name, value)
            shown = {f.replace("%3A", ":") for f in re.findall(r'href="/interactions/([^"#]+)', page.text)}
            assert shown <= {"chat:t:3"}, (name, value)
            assert "argon2" not in page.text
    for value in HOSTILE[:-1]:  # (a NUL cannot be in a URL path at all)
        assert c.get(f"/interactions/{quote(value)}").status_code == 404
    assert store.table_counts() == before and len(store.list_users()) == 5


def test_search_explains_typos_and_finds_any_flag(site):
    c = client(site)
    sign_in(c, "lead")
    typo = c.get("/search?team=biling").text
    assert "no team &#39;biling&#39; in the data; did you mean billing?" in typo
    assert "no flag &#39;escalaton&#39;" in c.get("/search?flag=escalaton").text
    assert "no failed &#39;empaty&#39;" in c.get("/search?failed=empaty").text
    flagged = set(re.findall(r'href="/interactions/([^"#]+)', c.get("/search?flag=any").text))
    unflagged = set(re.findall(r'href="/interactions/([^"#]+)', c.get("/search").text)) - flagged
    assert flagged and unflagged  # "any flag" narrows the list to the flagged ones
    found = c.get("/search?q=refund").text
    assert (
        '<mark class="found">refund</mark>' in found.lower() or '<mark class="found">Refund</mark>' in found
    )


def test_search_pages(site, tmp_path, store):
    small = create_app(settings_for(store.url, tmp_path, page_size=5))
    c = client(small)
    sign_in(c, "lead")
    first = c.get("/search").text
    assert 'rel="next"' not in first  # five interactions fit one page of five
    store.save_interactions(
        [i.model_copy(update={"id": i.id + "b"}) for i in __import__("web_data").interactions()]
    )
    first, second = c.get("/search").text, c.get("/search?page=2").text
    one = set(re.findall(r'href="/interactions/([^"#]+)', first))
    two = set(re.findall(r'href="/interactions/([^"#]+)', second))
    assert len(one) == 5 and len(two) == 5 and not one & two and 'rel="prev"' in second
    # the counts cover every match, not only the page shown
    assert '<span class="pill">chat 8</span>' in first and '<span class="pill">call 2</span>' in first
    assert "10 interaction(s) match" in first


def test_failed_sign_ins_pause_the_account(site):
    c = client(site)
    for _ in range(5):
        assert "Wrong" in sign_in(c, "coach", "wrong-password").headers["location"]
    blocked = sign_in(c, "coach")  # the right password, but too late
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert sign_in(client(site), "lead").status_code == 303  # another account is not affected


def test_trusted_proxy_header_signs_in_known_users_only(store, rubric, tmp_path):
    populate(store, rubric)
    proxied = client(
        create_app(
            settings_for(
                store.url, tmp_path, trusted_user_header="X-Remote-User", trusted_proxies=["testclient"]
            )
        )
    )
    assert proxied.get("/search", headers={"X-Remote-User": "coach"}).status_code == 200
    assert proxied.get("/search", headers={"X-Remote-User": "nobody"}).status_code == 303
    elsewhere = client(
        create_app(
            settings_for(
                store.url, tmp_path, trusted_user_header="X-Remote-User", trusted_proxies=["10.9.9.9"]
            )
        )
    )
    assert elsewhere.get("/search", headers={"X-Remote-User": "coach"}).status_code == 303


def test_accounts_commands_and_their_audit_log(store, tmp_path):
    config = tmp_path / "qa.toml"
    config.write_text(f'database_url = "{store.url}"\ndata_dir = "{tmp_path}"\n', encoding="utf-8")

    def qa(*args: str, password: str = "") -> object:
        return runner.invoke(cli, [*args, "-c", str(config)], input=password + "\n")

    assert (
        qa(
            "users",
            "add",
            "jana",
            "--role",
            "coach",
            "--team",
            "billing",
            "--password-stdin",
            password="jana-password-1",
        ).exit_code
        == 0
    )
    short = qa("users", "add", "petr", "--role", "lead", "--password-stdin", password="short")
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    agent = qa("users", "add", "eva", "--role", "agent", "--password-stdin", password="eva-password-1")
    assert agent.exit_code == 2 and "--agent-id" in agent.output
    assert qa("users", "add", "jana", "--role", "lead", "--password-stdin", password="x" * 12).exit_code == 2
    assert qa("users", "passwd", "jana", "--password-stdin", password="jana-password-2").exit_code == 0
    assert qa("users", "disable", "jana").exit_code == 0
    assert "(disabled)" in qa("users", "list").output
    site = create_app(settings_for(store.url, tmp_path))
    assert "Wrong" in sign_in(client(site), "jana", "jana-password-2").headers["location"]
    log = store.audit_entries()
    assert [e.action for e in log] == ["user.disable", "user.passwd", "user.add"]
    assert log[0].before["disabled"] == 0 and log[0].after["disabled"] == 1
    assert all("password" not in str(e.before) + str(e.after) for e in log)


def test_disabling_ends_open_sessions(site, store):
    c = client(site)
    sign_in(c, "coach")
    assert c.get("/search").status_code == 200
    store.change_user("coach", {"disabled": 1}, "test", "user.disable")
    assert c.get("/search").status_code == 303


def test_qa_search_explains_a_typo(store, rubric, tmp_path):
    populate(store, rubric)
    config = tmp_path / "qa.toml"
    config.write_text(f'database_url = "{store.url}"\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    done = runner.invoke(cli, ["search", "refund", "--team", "biling", "-c", str(config)])
    assert done.exit_code == 2 and "did you mean billing?" in done.output
    any_flag = runner.invoke(cli, ["search", "--flag", "any", "-c", str(config)])
    assert any_flag.exit_code == 0 and "chat:t:2" in any_flag.output


def dispute(c: TestClient, interaction_id: str, criterion: str, requested: str, comment: str, turn: str = ""):
    return c.post(
        "/disputes",
        data={
            "csrf": csrf_of(c),
            "interaction_id": interaction_id,
            "criterion": criterion,
            "requested": requested,
            "comment": comment,
            "turn": turn,
        },
    )


def decide(c: TestClient, number: int, decision: str, comment: str = ""):
    return c.post(
        f"/disputes/{number}/decide", data={"csrf": csrf_of(c), "decision": decision, "comment": comment}
    )


def test_an_accepted_dispute_overrides_the_result_everywhere(site, store, rubric):
    from qa_pipeline.pipeline import with_overrides
    from qa_pipeline.scoring import score_interactions

    before = store.load_scores("chat:t:2")[0]
    assert before.criteria["positive_language"].result == "fail"
    assert any(f.code == "negative_language" for f in before.flags)
    agent = client(site)
    sign_in(agent, "agent")  # a1: chat:t:2 is theirs
    raised = dispute(
        agent, "chat:t:2", "positive_language", "pass", "The customer asked me to be blunt.", "1"
    )
    assert "dispute+%231+is+open" in raised.headers["location"]
    assert "dispute open" in agent.get("/interactions/chat:t:2").text
    assert "still open" in unquote_plus(
        dispute(agent, "chat:t:2", "positive_language", "pass", "again").headers["location"]
    )
    assert decide(agent, 1, "accept").status_code == 404  # agents do not decide
    coach = client(site)
    sign_in(coach, "supervisor")  # team tech: not theirs to dispute
    assert dispute(coach, "chat:t:2", "empathy", "pass", "x").status_code == 404
    lead = client(site)
    sign_in(lead, "lead")
    assert "#1 chat:t:2" in lead.get("/disputes").text
    assert decide(lead, 1, "accept", "Agreed after listening.").status_code == 303

    after = store.load_scores("chat:t:2")[0]
    result = after.criteria["positive_language"]
    assert (result.result, result.original, result.dispute) == ("pass", "fail", 1)
    assert after.score > before.score
    assert not any(f.code == "negative_language" for f in after.flags)  # the flag hung on the old result
    page = lead.get("/interactions/chat:t:2").text
    assert "the machine said Fail" in page and 'href="#dispute-1"' in page
    failed = {h.interaction_id for h in store.search("", SearchFilters(failed="positive_language"))}
    assert "chat:t:2" not in failed
    week = agent.get("/agents/a1?period=week&on=2026-11-20").text
    assert re.search(r'id="rate-positive_language">.*?2 / 3', week, re.S)  # was 1 / 3
    csv_text = agent.get("/agents/a1.csv?period=week&on=2026-11-20").text
    assert "pass (decided)" in csv_text
    [taught] = [f for f in store.stored_feedback() if f.interaction_id == "chat:t:2"]
    assert (taught.grader, taught.grader_result, taught.machine_result, taught.turn) == (
        "lead",
        "pass",
        "fail",
        1,
    )
    actions = [e.action for e in store.audit_entries()]
    assert actions[:2] == ["dispute.accept", "dispute.raise"]
    # scoring the interaction again (a later night) keeps the decision
    items = store.load_interactions(["chat:t:2"])
    settings = settings_for(store.url, Path("."))
    [again] = with_overrides(score_interactions(items, rubric), items, settings, store)
    assert again.criteria["positive_language"].result == "pass" and again.score == after.score


def test_a_rejected_dispute_changes_nothing(site, store):
    before = store.load_scores("chat:t:3")[0]
    other = client(site)
    sign_in(other, "other")
    dispute(
        other,
        "chat:t:3",
        "greeting",
        "fail" if before.criteria["greeting"].result == "pass" else "pass",
        "hm",
    )
    lead = client(site)
    sign_in(lead, "lead")
    assert decide(lead, 1, "reject", "The greeting is there.").status_code == 303
    assert store.load_scores("chat:t:3")[0] == before
    assert "rejected by lead: The greeting is there." in other.get("/interactions/chat:t:3").text
    assert decide(lead, 1, "accept").headers["location"].endswith("#criteria")  # decided already: refused
    assert store.load_scores("chat:t:3")[0] == before


def test_agent_and_team_pages_count_with_denominators(site, store, rubric):
    from qa_pipeline.interactions import Interaction, Turn
    from qa_pipeline.scoring import score_interactions

    silent = Interaction(
        id="chat:t:50",
        channel="chat",
        agent_id="a1",
        team="billing",
        language="en",
        started_at="2026-11-20T12:00:00Z",
        turns=[Turn(speaker="customer", text="Hello? Anybody there?")],
    )
    store.save_interactions([silent])
    store.save_scores(score_interactions([silent], rubric))
    assert all(r.result == "na" for r in store.load_scores("chat:t:50")[0].criteria.values())
    lead = client(site)
    sign_in(lead, "lead")
    day = lead.get("/agents/a1?period=day&on=2026-11-20").text
    assert "<dt>Interactions</dt><dd>4</dd>" in day  # chat 1, 2, the call and the silent chat
    assert "1 interaction(s) had no criterion that applied" in day
    scores = [s.score for i in ("chat:t:1", "chat:t:2", "call:t:9") for s in store.load_scores(i)[:1]]
    assert f"<dt>Average score</dt><dd>{sum(scores) / 3:.1f}</dd>" in day  # the silent one is not a 0
    assert re.search(r'id="rate-greeting">.*?<td class="denominator">\d / 3</td>', day, re.S)
    assert "November 2026" in lead.get("/agents/a1?period=month&on=2026-11-03").text
    custom = lead.get("/agents/a1?period=custom&since=2026-11-21&until=2026-11-30").text
    assert "<dt>Interactions</dt><dd>0</dd>" in custom and "2026-11-21 to 2026-11-30" in custom
    team = lead.get("/teams/tech?period=week&on=2026-11-20").text
    assert 'href="/agents/a2?' in team and 'href="/agents/a3?' in team and "/agents/a1?" not in team
    assert "&lt;script&gt;" in team and "<script>alert" not in team  # Mallory's name, escaped
    exported = lead.get("/teams/tech.csv?period=week&on=2026-11-20")
    assert exported.headers["content-type"].startswith("text/csv")
    assert len(exported.text.strip().splitlines()) == 3  # header + chat 3 and chat 4


def test_agent_and_team_pages_are_scoped(site):
    expectations = {
        ("other", "/agents/a1"): 404,
        ("other", "/agents/a2"): 200,
        ("other", "/teams/tech"): 404,
        ("coach", "/teams/billing"): 200,
        ("coach", "/teams/tech"): 404,
        ("coach", "/agents/a1"): 200,
        ("coach", "/agents/a2"): 404,
        ("supervisor", "/agents/a1"): 404,
        ("supervisor", "/teams/tech.csv"): 200,
        ("lead", "/teams/tech"): 200,
    }
    for (username, path), status in expectations.items():
        c = client(site)
        sign_in(c, username)
        assert c.get(path).status_code == status, (username, path)
    agent = client(site)
    sign_in(agent, "agent")
    assert agent.get("/").headers["location"] == "/agents/a1"


def test_comments_on_interactions_and_criteria(site, store):
    coach = client(site)
    sign_in(coach, "coach")
    posted = coach.post(
        "/comments",
        data={
            "csrf": csrf_of(coach),
            "interaction_id": "chat:t:2",
            "criterion": "positive_language",
            "text": XSS,
        },
    )
    assert "comment+added" in posted.headers["location"]
    agent = client(site)
    sign_in(agent, "agent")
    page = agent.get("/interactions/chat:t:2").text  # the agent reads the coach's comment
    assert "on positive_language" in page and "&lt;script&gt;" in page and "<script>alert" not in page
    other = client(site)
    sign_in(other, "other")
    refused = other.post(
        "/comments", data={"csrf": csrf_of(other), "interaction_id": "chat:t:2", "text": "hi"}
    )
    assert refused.status_code == 404 and len(store.find_comments(["chat:t:2"])) == 1
    assert store.audit_entries()[0].action == "comment.add"


def test_coaching_sessions_and_the_agents_own_history(site, store):
    coach = client(site)
    sign_in(coach, "coach")
    saved = coach.post(
        "/coaching",
        data={
            "csrf": csrf_of(coach),
            "agent_id": "a1",
            "notes": "Practise saying sorry before explaining.",
            "interactions": "chat:t:2 chat:t:3 chat:t:999",
            "follow_up": "2026-12-01",
        },
    )
    assert "coaching+session+saved" in saved.headers["location"]
    [session] = store.find_coaching("a1")
    assert session.interactions == ["chat:t:2"]  # not a2's chat 3, not an unknown id
    agent = client(site)
    sign_in(agent, "agent")
    mine = agent.get("/agents/a1").text
    assert "Practise saying sorry" in mine and "follow up on 2026-12-01" in mine
    assert 'action="/coaching"' not in mine  # agents read their coaching, they do not write it
    assert (
        agent.post("/coaching", data={"csrf": csrf_of(agent), "agent_id": "a1", "notes": "x"}).status_code
        == 404
    )
    assert (
        coach.post("/coaching", data={"csrf": csrf_of(coach), "agent_id": "a2", "notes": "x"}).status_code
        == 404
    )


def test_csat_import_matches_ids_and_tickets_and_shows_beside_the_score(site, store, tmp_path):
    from qa_pipeline.interactions import Interaction, Turn

    twin = Interaction(
        id="email:t:3", channel="email", agent_id="a2", team="tech", turns=[Turn(speaker="agent", text="Hi")]
    )
    store.save_interactions([twin])  # "3" now names chat:t:3 and email:t:3
    export = tmp_path / "csat.csv"
    export.write_text(
        "Ticket_ID,Rating,Date,Scale\n"
        "chat:t:1,5,2026-11-20,5\n"
        "2,3,2026-11-20T10:00,5\n"
        "3,4,2026-11-20,5\n"
        "999,4,2026-11-20,5\n"
        "chat:t:9,excellent,2026-11-20,5\n"
        "call:t:9,7,2026-11-20,5\n",
        encoding="utf-8",
    )
    config = tmp_path / "qa.toml"
    config.write_text(f'database_url = "{store.url}"\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    done = runner.invoke(cli, ["csat", "import", str(export), "-c", str(config)])
    assert "read 6 = stored 2 + rejected 4" in done.output, done.output
    assert "names 2 interactions" in done.output and "no interaction '999'" in done.output
    assert "score 7 is outside 0..5" in done.output and "'excellent' is not a number" in done.output
    assert store.surveys_of(["chat:t:1", "chat:t:2"]) == {
        "chat:t:1": {"csat": (5.0, 5.0)},
        "chat:t:2": {"csat": (3.0, 5.0)},
    }
    lead = client(site)
    sign_in(lead, "lead")
    assert "Survey answers: <strong>CSAT 5 / 5</strong>" in lead.get("/interactions/chat:t:1").text
    # one of the two answers is satisfied (at least 4 of 5)
    assert (
        "<dt>CSAT</dt><dd>50% satisfied (4.0 / 5, 2)</dd>"
        in lead.get("/agents/a1?period=week&on=2026-11-20").text
    )


def test_team_pages_show_survey_kpis_and_their_link_to_the_criteria(site, store, tmp_path, monkeypatch):
    """NPS and CES beside CSAT, and the survey-to-criterion table once enough interactions
    have both (lowered here: the billing team's week has three)."""
    monkeypatch.setattr("qa_pipeline.surveys.MIN_LINKED", 2)
    export = tmp_path / "nps.csv"
    export.write_text(
        "interaction_id,type,score\nchat:t:1,nps,10\nchat:t:2,nps,3\ncall:t:9,nps,9\nchat:t:1,ces,6\n",
        encoding="utf-8",
    )
    config = tmp_path / "qa.toml"
    config.write_text(f'database_url = "{store.url}"\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    assert "stored 4" in runner.invoke(cli, ["surveys", "import", str(export), "-c", str(config)]).output
    lead = client(site)
    sign_in(lead, "lead")
    page = lead.get("/teams/billing?period=week&on=2026-11-20").text
    # two promoters (9, 10) and one detractor (3) of three: +33
    assert "<dt>NPS</dt><dd>+33 (2 promoting, 1 detracting, of 3)</dd>" in page
    assert "<dt>CES</dt><dd>6.0 / 7 (1)</dd>" in page and "<dt>CSAT</dt><dd>none imported</dd>" in page
    assert 'id="survey-links"' in page and "<td>NPS</td><td>QA score</td><td>3</td>" in page
    assert 'id="survey-links"' not in lead.get("/teams/tech?period=week&on=2026-11-20").text  # no answers


def grade(c: TestClient, session: int, interaction_id: str, results: dict[str, str]):
    data = {
        "csrf": csrf_of(c),
        "interaction_id": interaction_id,
        **{f"result_{k}": v for k, v in results.items()},
    }
    return c.post(f"/calibration/{session}/grade", data=data)


def test_calibration_is_blind_and_reports_agreement(site, store):
    lead = client(site)
    sign_in(lead, "lead")
    made = lead.post(
        "/calibration",
        data={
            "csrf": csrf_of(lead),
            "name": "Week 47",
            "interactions": "chat:t:1\nchat:t:2",
            "graders": ["coach", "supervisor"],
        },
    )
    assert made.headers["location"] == "/calibration/1"
    refused = lead.post(
        "/calibration",
        data={
            "csrf": csrf_of(lead),
            "name": "x",
            "interactions": "chat:t:1\nnope",
            "graders": ["coach", "agent"],
        },
    )
    assert "no+interaction" in refused.headers["location"] and "cannot+grade" in refused.headers["location"]
    criteria = list(store.load_scores("chat:t:1")[0].criteria)
    coach, supervisor, agent = client(site), client(site), client(site)
    sign_in(coach, "coach")
    sign_in(supervisor, "supervisor")
    sign_in(agent, "agent")
    assert agent.get("/calibration/1").status_code == 404  # not a grader
    form = coach.get("/calibration/1/grade/chat:t:1").text
    assert "ev-pass" not in form and "badge-" not in form and "Found in" not in form  # blind
    for c in (coach, supervisor):
        for iid in ("chat:t:1", "chat:t:2"):
            results = dict.fromkeys(criteria, "pass")
            if c is supervisor and iid == "chat:t:2":
                results["greeting"] = "fail"
            assert grade(c, 1, iid, results).status_code == 303
    assert "opens to you once you have graded" not in coach.get("/calibration/1").text
    report = lead.get("/calibration/1").text
    greeting = re.search(r'id="agree-greeting">(.*?)</tr>', report, re.S).group(1)
    assert '<td class="agreement">50%</td>' in greeting and '<td class="fleiss">-0.33</td>' in greeting
    empathy = re.search(r'id="agree-empathy">(.*?)</tr>', report, re.S).group(1)
    assert '<td class="agreement">100%</td>' in empathy
    assert [e.action for e in store.audit_entries()[:4]] == ["calibration.grade"] * 4


def test_sql_in_every_form_field_and_path_is_harmless(site, store):
    lead = client(site)
    sign_in(lead, "lead")
    before = store.table_counts()
    users = len(store.list_users())
    token = csrf_of(lead)
    for value in HOSTILE[:-1]:
        for path in (f"/agents/{quote(value)}", f"/teams/{quote(value)}", f"/calibration/{quote(value)}"):
            assert lead.get(path).status_code in (404, 422), path  # 422: not a session number
        for params in (
            {"period": value},
            {"on": value},
            {"since": value, "until": value, "period": "custom"},
        ):
            assert lead.get("/agents/a1", params=params).status_code == 200, params
        assert (
            lead.post("/comments", data={"csrf": token, "interaction_id": value, "text": value}).status_code
            == 404
        )
        lead.post(
            "/comments", data={"csrf": token, "interaction_id": "chat:t:1", "criterion": value, "text": value}
        )
        lead.post(
            "/disputes",
            data={
                "csrf": token,
                "interaction_id": "chat:t:1",
                "criterion": value,
                "requested": value,
                "turn": value,
                "comment": value,
            },
        )
        lead.post("/coaching", data={"csrf": token, "agent_id": value, "notes": value, "interactions": value})
        lead.post(
            "/calibration", data={"csrf": token, "name": value, "interactions": value, "graders": [value]}
        )
    after = store.table_counts()
    assert {k: v for k, v in after.items() if k not in ("comments", "audit_log")} == {
        k: v for k, v in before.items() if k not in ("comments", "audit_log")
    }
    assert len(store.list_users()) == users
    comments = store.find_comments(["chat:t:1"])
    assert [c.text for c in comments] == HOSTILE[:-1] and all(c.criterion is None for c in comments)
    assert store.find_disputes() == [] and store.calibrations() == []


def _as_stored(store, items, agents=None, teams=None) -> dict[str, tuple]:
    """Each interaction's newest score, from the scores themselves: what the pages must count."""
    newest = {}
    for item in items:
        if (agents and item.agent_id not in agents) or (teams and item.team not in teams):
            continue
        stored = sorted(store.load_scores(item.id), key=lambda s: s.rubric)
        if stored:
            when = {s.rubric: store_scored_at(store, item.id, s.rubric) for s in stored}
            best = max(stored, key=lambda s: when[s.rubric])  # the first rubric by name on a tie
            newest[item.id] = (
                best.rubric,
                best.score,
                {c: (r.result, r.original is not None) for c, r in best.criteria.items()},
            )
    return newest


def store_scored_at(store, interaction_id: str, rubric: str):
    from sqlalchemy import select

    from qa_pipeline.schema import scores

    with store.engine.connect() as conn:
        return conn.execute(
            select(scores.c.scored_at).where(
                scores.c.interaction_id == interaction_id, scores.c.rubric == rubric
            )
        ).scalar_one()


def _as_read(store, **scope) -> dict[str, tuple]:
    rows = store.period_results(**scope)
    assert len({r["interaction_id"] for r in rows}) == len(rows), scope  # one row per interaction
    for r in rows:
        assert r["applicable"] == any(v != "na" for v in r["results"].values())
    return {
        r["interaction_id"]: (
            r["rubric"],
            r["score"],
            {c: (result, c in r["decided"]) for c, result in r["results"].items()},
        )
        for r in rows
    }


def _gathered_as_counted(store, **scope) -> dict:
    """What a page gathers by SQL (day totals, lowest scores, first-contact resolution, survey
    answers) against the same counted from the period's rows one by one."""
    from datetime import date

    from qa_pipeline.web import reports

    period = reports.period_of("custom", date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 30))
    since, until = period.bounds()
    agents, teams = scope.get("agents"), scope.get("teams")
    gathered = reports.gather(store, agents, teams, period, 7)
    rows = store.period_results(agents, teams, since, until)
    ids = [r["interaction_id"] for r in rows]
    counted = reports.gathered_from_rows(rows, store.first_contacts_of(rows, 7), store.surveys_of(ids))

    def folded(totals: list[dict], by: str) -> dict:
        return {(t[by], t["key"]): (t["n"], round(t["total"], 6)) for t in totals if t["n"]}

    by_day, by_agent = folded(gathered.by_day, "day"), folded(gathered.by_agent, "agent_id")
    assert by_day == folded(counted.by_day, "day"), scope
    assert by_agent == folded(counted.by_agent, "agent_id"), scope
    assert [(r["interaction_id"], r["score"]) for r in gathered.lowest] == [
        (r["interaction_id"], r["score"]) for r in counted.lowest
    ], scope
    assert (gathered.repeats, gathered.resolved_first) == (counted.repeats, counted.resolved_first), scope
    assert gathered.responses == counted.responses, scope
    assert sorted(r["interaction_id"] for r in gathered.answered) == sorted(gathered.responses), scope
    assert reports.report(gathered, {}, period)["kpis"] == reports.report(counted, {}, period)["kpis"]
    return {"totals": by_day | by_agent, "gathered": gathered}


def test_the_pages_read_each_interactions_newest_score_as_stored(store, rubric, tmp_path: Path):
    """``period_results`` (the CSV exports) reads ``newest_scores``, and the pages its day
    totals (``daily_counts``), which every write keeps in step with the scores: a second
    rubric's score, an accepted dispute, a changed re-ingest that moves an interaction to
    another team (its stale score goes) and its new score. Migrating down past both tables
    and up again (their copies of existing scores) reads the same."""
    from alembic import command
    from web_data import chat, interactions

    from qa_pipeline.bundled import bundled
    from qa_pipeline.disputes import decide, raise_dispute
    from qa_pipeline.migrations import alembic_config, upgrade
    from qa_pipeline.scoring import score_interactions

    items = populate(store, rubric)
    # k1 comes back within the 7-day window (chat 5: not resolved at first contact); chat 6
    # and chat 7 had no repeat and the window passed by the newest contact (Nov 20); chat 8
    # is too recent to tell.
    known = [
        chat(5, "a1", "billing", "Hello, I can help with that. Thank you!", day=1),
        chat(6, "a2", "tech", "Sorry about that, it is fixed.", day=3),
        chat(7, "a1", "billing", "Wait.", day=2),
        chat(8, "a3", "tech", "Thanks for waiting, done.", day=19),
    ]
    known = [
        c.model_copy(update={"customer_key": k}) for c, k in zip(known, ["k1", "k1", "k2", "k3"], strict=True)
    ]
    store.save_interactions(known)
    store.save_scores(score_interactions(known, rubric))
    items += known
    answers = [("chat:t:1", 5.0), ("chat:t:2", 1.0), ("chat:t:5", 4.0), ("call:t:9", 2.0)]
    store.save_surveys(
        [
            {"interaction_id": i, "kind": "csat", "score": v, "scale": 5.0, "customer_key": None}
            for i, v in answers
        ],
        "surveys.csv",
        "test",
    )
    first = _gathered_as_counted(store)["gathered"]
    assert [iid for iid, _ in first.repeats] == ["chat:t:5"] and first.resolved_first == 2
    assert set(first.responses) == {i for i, _ in answers}

    newer = rubric.model_copy(update={"version": rubric.version + 1})
    store.save_scores(score_interactions(store.load_interactions(["chat:t:1", "chat:t:2"]), newer))
    [score] = store.load_scores("chat:t:3")
    flipped = "fail" if score.criteria["positive_language"].result == "pass" else "pass"
    number = raise_dispute(store, score, "positive_language", flipped, "Read the whole chat.", None, "coach")
    decide(store, number, True, "lead", "Agreed.", [bundled("rubrics", "default.yaml")])
    tech_before = _gathered_as_counted(store, teams=["tech"])["totals"]
    changed = interactions()[3].model_copy(update={"team": "billing"})
    store.save_interactions([changed])
    assert "chat:t:4" not in _as_read(store)  # its stale score went with the old content
    after_move = _gathered_as_counted(store, teams=["tech"])["totals"]
    assert after_move[("a3", "interactions")][0] == tech_before[("a3", "interactions")][0] - 1
    items[3] = changed
    store.save_scores(score_interactions([changed], rubric))

    assert _as_read(store)["chat:t:3"][2]["positive_language"] == (flipped, True)
    assert {_as_read(store)[i][0] for i in ("chat:t:1", "chat:t:2")} == {newer.ref}
    scopes: list[dict] = [{}, {"teams": ["billing"]}, {"agents": ["a2", "a3"]}]
    for scope in scopes:
        assert _as_read(store, **scope) == _as_stored(store, items, **scope), scope
        _gathered_as_counted(store, **scope)
    assert set(_as_read(store, teams=["billing"])) == {
        "chat:t:1",
        "chat:t:2",
        "chat:t:4",
        "chat:t:5",
        "chat:t:7",
        "call:t:9",
    }
    decided = _gathered_as_counted(store, agents=["a2"])["totals"]
    day = datetime(2026, 11, 20, tzinfo=UTC).date()
    assert decided[(day, f"result:positive_language:{flipped}")] == (1, 1.0)  # 1 decided
    assert decided[("a2", f"result:positive_language:{flipped}")] == (1, 1.0)

    before = _as_read(store)
    pages = [_gathered_as_counted(store, **scope)["totals"] for scope in scopes]
    with store.engine.begin() as conn:  # a hand edit: `qa db recount` repairs it
        conn.exec_driver_sql("DELETE FROM daily_counts WHERE agent_id = 'a1'")
    with pytest.raises(AssertionError):
        _gathered_as_counted(store)
    config = tmp_path / "qa.toml"
    config.write_text(f'database_url = "{store.url}"\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    recounted = runner.invoke(cli, ["db", "recount", "-c", str(config)])
    assert f"from {len(items)} interactions" in recounted.output, recounted.output
    assert [_gathered_as_counted(store, **scope)["totals"] for scope in scopes] == pages
    command.downgrade(alembic_config(store.engine), "0010")
    upgrade(store.engine)
    assert _as_read(store) == before and len(before) == len(items)
    assert [_gathered_as_counted(store, **scope)["totals"] for scope in scopes] == pages


def test_a_decision_is_stored_whole_or_not_at_all(site, store, monkeypatch):
    """Accepting writes the decision, the grader correction and the rewritten scores in one
    transaction: a failure in the last write leaves the dispute open and nothing changed."""
    from qa_pipeline.store import score_rows

    agent = client(site)
    sign_in(agent, "agent")
    dispute(agent, "chat:t:2", "positive_language", "pass", "Blunt on request.", "1")
    before = store.load_scores("chat:t:2")

    def broken(conn, item):
        raise RuntimeError("disk full")

    monkeypatch.setattr("qa_pipeline.store.dispute_rows.replace_score_in", broken)
    lead = client(site)
    sign_in(lead, "lead")
    with pytest.raises(RuntimeError, match="disk full"):
        decide(lead, 1, "accept")
    [still] = store.find_disputes(dispute_id=1)
    assert still.status == "open" and store.load_scores("chat:t:2") == before
    assert store.stored_feedback() == [] and store.audit_entries()[0].action == "dispute.raise"
    monkeypatch.setattr("qa_pipeline.store.dispute_rows.replace_score_in", score_rows.replace_score_in)
    assert decide(lead, 1, "accept").status_code == 303
    assert store.load_scores("chat:t:2")[0].criteria["positive_language"].result == "pass"


def test_leads_see_the_runs_and_what_each_quarantined(site, store):
    from qa_pipeline.sources import Quarantined

    store.start_run("nightly-a", "2026-11-20")
    store.save_quarantined(
        [Quarantined("chat", "night.json", f"conversation {n} has no messages", position=n) for n in (4, 5)]
        + [Quarantined("email", "x.mbox", "message has no valid From address", record="From: <a@b.c>")],
        "nightly-a",
    )
    store.finish_run("nightly-a", "ok", {"channels": {"chat": {"read": 9, "scored": 7, "quarantined": 2}}})
    store.start_run("nightly-b", "2026-11-21")
    store.finish_run("nightly-b", "ok", {"channels": {"chat": {"read": 1, "scored": 1, "quarantined": 0}}})
    for username in ("coach", "supervisor", "agent"):
        c = client(site)
        sign_in(c, username)
        assert c.get("/runs").status_code == 404 and c.get("/runs?run=nightly-a").status_code == 404
    c = client(site)
    sign_in(c, "lead")
    newest = c.get("/runs").text
    assert newest.index("nightly-b") < newest.index("nightly-a") and "Nothing quarantined." in newest
    page = c.get("/runs?run=nightly-a").text
    assert "Quarantined by nightly-a" in page
    assert re.search(r'<td class="num">2</td><td>chat</td><td>conversation N has no messages</td>', page)
    assert "night.json #5" in page and "message has no valid From address" in page
    assert c.get("/runs?run=nightly-zz").status_code == 404
