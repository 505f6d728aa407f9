"""The web app: ``create_app(settings)`` is a FastAPI application over the results database.

Every page but ``/login`` (and its static files) needs a session; every form carries the
session's CSRF token; what a user sees is scoped by role (``auth.User.sees``): an
interaction outside a user's view is "not found", exactly as one that does not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from qa_pipeline import calibration, disputes
from qa_pipeline.contracts import FLAG_LABELS
from qa_pipeline.errors import QAError
from qa_pipeline.rubric import criterion_names
from qa_pipeline.search import ANY_FLAG, MAX_LIMIT, SearchFilters, check_filters, query_terms
from qa_pipeline.settings import Settings
from qa_pipeline.store import Store, open_store
from qa_pipeline.web import auth, pages, reports
from qa_pipeline.web.views import interaction_page

HERE = Path(__file__).parent
SESSION_COOKIE = "qa_session"
LOGIN_COOKIE = "qa_login"
OPEN_PATHS = ("/login", "/static/", "/favicon.ico")
FACET_SPAN = 1_000  # search results counted per channel, team and flag (the best first)
AUDIO = {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class Refused(Exception):
    """A form without the session's CSRF token: answered 403, nothing done."""


class Web:
    """What the handlers share: settings, the store, the signing secret, the templates."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store: Store = open_store(settings.database_url)
        self.secret = hmac.new(settings.key_secret(), b"qa-pipeline web sessions", hashlib.sha256).digest()
        self.templates = Jinja2Templates(env=pages.environment())
        self.rubrics = settings.rubric_paths()
        self.criteria = criterion_names(self.rubrics)

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("user", getattr(request.state, "user", None))
        context.setdefault("csrf", getattr(request.state, "csrf", ""))
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    def error(self, request: Request, status: int, title: str, message: str) -> HTMLResponse:
        return self.page(request, "error.html", status, title=title, message=message)

    def not_found(self, request: Request) -> HTMLResponse:
        return self.error(request, 404, "Not found", "There is nothing here for you.")

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            auth.sign(self.secret, value),
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=self.settings.web.secure_cookies,
            path="/",
        )

    def login_token(self, nonce: str) -> str:
        return hmac.new(self.secret, b"login:" + nonce.encode(), hashlib.sha256).hexdigest()


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (``//evil``, ``https://...``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def create_app(settings: Settings) -> FastAPI:
    web = Web(settings)
    app = FastAPI(title="qa-pipeline", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.web = web

    @app.middleware("http")
    async def sessions(request: Request, call_next: Any) -> Response:
        request.state.user, request.state.csrf = None, ""
        session_id = auth.unsign(web.secret, request.cookies.get(SESSION_COOKIE))
        found = web.store.session_user(auth.session_hash(session_id)) if session_id else None
        fresh_session = None
        header = settings.web.trusted_user_header
        named = request.headers.get(header) if header else None
        vouched = named is not None and _client(request) in settings.web.trusted_proxies
        if vouched and (found is None or found[0].username != named):
            # Single sign-on: the proxy vouches for the user, and its word wins over a cookie.
            row = web.store.find_user(username=named)
            found = None
            if row is not None and not row.disabled:
                fresh_session = auth.new_session(web.store, row.id, settings.web.session_hours)
                found = web.store.session_user(auth.session_hash(fresh_session))
        if found is not None:
            row, csrf = found
            request.state.user, request.state.csrf = auth.User.from_row(row), csrf
        path = request.url.path
        if request.state.user is None and not path.startswith(OPEN_PATHS):
            if request.method == "GET":
                wanted = urlencode({"next": path + (f"?{request.url.query}" if request.url.query else "")})
                response: Response = RedirectResponse(f"/login?{wanted}", status_code=303)
            else:
                response = Response("sign in first", status_code=401)
        else:
            response = await call_next(request)
        if fresh_session:
            web.set_cookie(response, SESSION_COOKIE, fresh_session, int(settings.web.session_hours * 3600))
        response.headers.update(SECURITY_HEADERS)
        return response

    async def form(request: Request) -> dict[str, str]:
        data = await request.form()
        request.state.lists = {k: [str(v) for v in data.getlist(k)] for k in data}
        return {k: v for k, v in data.items() if isinstance(v, str)}

    @app.exception_handler(Refused)
    def refused(request: Request, exc: Refused) -> Response:
        return web.error(request, 403, "Refused", "The form was not from this site.")

    async def posted(request: Request) -> dict[str, str]:
        """A form of a signed-in user's page, with the session's CSRF token (else Refused)."""
        data = await form(request)
        if not (request.state.csrf and hmac.compare_digest(data.get("csrf", ""), request.state.csrf)):
            raise Refused()
        return data

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/", problem: str = "") -> Response:
        # One nonce per browser while it lasts: two open sign-in forms (two tabs) both work.
        nonce = auth.unsign(web.secret, request.cookies.get(LOGIN_COOKIE)) or secrets.token_urlsafe(16)
        token, target = web.login_token(nonce), _safe_next(next)
        response = web.page(request, "login.html", title="Sign in", token=token, next=target, problem=problem)
        web.set_cookie(response, LOGIN_COOKIE, nonce, 3600)
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        data = await form(request)
        nonce = auth.unsign(web.secret, request.cookies.get(LOGIN_COOKIE))
        if not nonce or not hmac.compare_digest(data.get("token", ""), web.login_token(nonce)):
            return web.error(request, 403, "Form expired", "The sign-in form expired; open it again.")
        username, password = data.get("username", "").strip(), data.get("password", "")
        target, client = _safe_next(data.get("next")), _client(request)

        def again(problem: str, status: int) -> Response:
            query = urlencode({"next": target, "problem": problem})
            return RedirectResponse(f"/login?{query}", status_code=status)

        if not auth.login_allowed(
            web.store, username, client, settings.web.login_attempts, settings.web.login_window_minutes
        ):
            minutes = math.ceil(settings.web.login_window_minutes)
            return web.error(
                request,
                429,
                "Too many attempts",
                f"Too many failed sign-ins. Wait {minutes} minutes, or ask a QA lead to reset your password.",
            )
        row = web.store.find_user(username=username) if username else None
        stored = row.password_hash if row is not None and not row.disabled else None
        matches = auth.check_password(stored, password)  # an unknown name costs as much time
        if row is None or not matches:
            web.store.note_login_failure(username or "-", client)
            return again("Wrong username or password.", 303)
        web.store.clear_login_failures(username)
        old = auth.unsign(web.secret, request.cookies.get(SESSION_COOKIE))
        if old:  # a session id from before the login never becomes the logged-in one
            web.store.end_session(auth.session_hash(old))
        session_id = auth.new_session(web.store, row.id, settings.web.session_hours)
        response = RedirectResponse(target, status_code=303)
        web.set_cookie(response, SESSION_COOKIE, session_id, int(settings.web.session_hours * 3600))
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await posted(request)  # refuses a form without the CSRF token
        session_id = auth.unsign(web.secret, request.cookies.get(SESSION_COOKIE))
        if session_id:
            web.store.end_session(auth.session_hash(session_id))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/")
    def home(request: Request) -> Response:
        user: auth.User = request.state.user
        if user.role == "agent" and user.agent_id:
            return RedirectResponse(f"/agents/{quote(user.agent_id)}", status_code=303)
        if user.role in ("coach", "supervisor") and user.teams:
            return RedirectResponse(f"/teams/{quote(user.teams[0])}", status_code=303)
        return RedirectResponse("/search", status_code=303)

    def scoped_interaction(user: auth.User, interaction_id: str) -> Any:
        """The interaction, if it exists and is in the user's view; else None (answered as
        "not found" either way)."""
        found = web.store.load_interactions([interaction_id])
        return found[0] if found and user.sees(found[0].agent_id, found[0].team) else None

    @app.get("/interactions/{interaction_id:path}", response_class=HTMLResponse)
    def interaction(request: Request, interaction_id: str) -> Response:
        user: auth.User = request.state.user
        item = scoped_interaction(user, interaction_id)
        if item is None:
            return web.not_found(request)
        scored = web.store.load_scores(item.id)
        fcr = web.store.first_contact_results([item.id], settings.fcr_window_days).get(item.id, (None, ""))
        view = interaction_page(item, scored, web.criteria, fcr)
        audio = item.channel == "call" and _audio_file(item.source) is not None
        disputes = web.store.find_disputes(interaction_id=item.id)
        open_on = {d.criterion for d in disputes if d.status == "open"}
        answers = web.store.surveys_of([item.id]).get(item.id, {})
        return web.page(
            request,
            "interaction.html",
            title=item.id,
            audio=audio,
            disputes=disputes,
            open_on=open_on,
            may_dispute=user.role in ("agent", "coach", "lead") and bool(scored),
            comments=web.store.find_comments([item.id]),
            surveys=answers,
            notice=request.query_params.get("notice", ""),
            **view,
        )

    @app.post("/disputes")
    async def raise_dispute(request: Request) -> Response:
        user: auth.User = request.state.user
        data = await posted(request)
        item = scoped_interaction(user, data.get("interaction_id", ""))
        if item is None or user.role not in ("agent", "coach", "lead"):
            return web.not_found(request)
        scored = web.store.load_scores(item.id)
        if not scored:
            return RedirectResponse(_with_notice(item.id, "this interaction is not scored yet"), 303)
        turn = data.get("turn", "")
        try:
            number = disputes.raise_dispute(
                web.store,
                scored[0],
                data.get("criterion", ""),
                data.get("requested", ""),
                data.get("comment", ""),
                int(turn) if turn.isdigit() and int(turn) < len(item.turns) else None,
                user.username,
            )
        except QAError as exc:
            return RedirectResponse(_with_notice(item.id, str(exc)), status_code=303)
        said = f"dispute #{number} is open; a QA lead decides it"
        return RedirectResponse(_with_notice(item.id, said), status_code=303)

    @app.post("/disputes/{dispute_id}/decide")
    async def decide_dispute(request: Request, dispute_id: int) -> Response:
        user: auth.User = request.state.user
        data = await posted(request)
        found = web.store.find_disputes(dispute_id=dispute_id)
        if not user.is_lead or not found or scoped_interaction(user, found[0].interaction_id) is None:
            return web.not_found(request)
        accept = data.get("decision") == "accept"
        try:
            comment = data.get("comment", "")
            disputes.decide(web.store, dispute_id, accept, user.username, comment, web.rubrics)
        except QAError as exc:
            return RedirectResponse(_with_notice(found[0].interaction_id, str(exc)), status_code=303)
        said = "accepted: the result is overridden everywhere" if accept else "rejected"
        return RedirectResponse(_with_notice(found[0].interaction_id, f"dispute #{dispute_id} {said}"), 303)

    @app.get("/disputes", response_class=HTMLResponse)
    def dispute_list(request: Request, status: str = "open") -> Response:
        user: auth.User = request.state.user
        rows = web.store.find_disputes(status=status if status in ("open", "accepted", "rejected") else None)
        disputed = web.store.load_interactions(list({d.interaction_id for d in rows}))  # one read
        seen = {i.id for i in disputed if user.sees(i.agent_id, i.team)}
        visible = [d for d in rows if d.interaction_id in seen]
        names = {cid: c.name for cid, c in web.criteria.items()}
        return web.page(request, "disputes.html", title="Disputes", rows=visible, showing=status, names=names)

    @app.get("/audio/{interaction_id:path}")
    def audio(request: Request, interaction_id: str) -> Response:
        user: auth.User = request.state.user
        item = scoped_interaction(user, interaction_id)
        path = _audio_file(item.source) if item is not None and item.channel == "call" else None
        if path is None:
            return web.not_found(request)
        return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/search", response_class=HTMLResponse)
    def search(request: Request) -> Response:
        user: auth.User = request.state.user
        query = request.query_params
        text = query.get("q", "")
        problems: list[str] = []

        def day(name: str) -> datetime | None:
            value = query.get(name) or None
            try:
                return datetime.fromisoformat(value) if value else None
            except ValueError:
                problems.append(f"{name} {value!r} is not a date (YYYY-MM-DD)")
                return None

        def number(name: str) -> float | None:
            value = query.get(name) or None
            try:
                return float(value) if value else None
            except ValueError:
                problems.append(f"{name} {value!r} is not a number")
                return None

        until = day("until")
        filters = SearchFilters(
            agent=query.get("agent") or None,
            team=query.get("team") or None,
            channel=query.get("channel") or None,
            since=day("since"),
            until=until + timedelta(days=1) if until else None,  # the end date is included
            flag=query.get("flag") or None,
            failed=query.get("failed") or None,
            min_score=number("min_score"),
            max_score=number("max_score"),
            **user.scope(),
        )
        known = web.store.known_values(**user.scope())  # only the agents and teams this user sees
        problems += check_filters(filters, known, list(web.criteria), list(FLAG_LABELS))
        size = settings.web.page_size
        try:
            page = max(1, min(int(query.get("page", "1")), MAX_LIMIT // size))
        except ValueError:
            page = 1
        hits, more, found = [], False, []
        # Counting the best 1,000 matches costs a text search more ranking (and, under a rare
        # filter, a wider window); a listing by filters alone reads them cheaply.
        wanted = page * size + 1
        fetched = min(MAX_LIMIT, wanted if query_terms(text) else max(wanted, FACET_SPAN))
        if not problems:
            try:
                found = web.store.search(text, filters, fetched)
            except Exception as exc:  # a query the backend refuses: shown, never a 500
                problems.append(str(exc))
            hits, more = found[(page - 1) * size : page * size], len(found) > page * size
        facets = _facets(found)
        base = {k: v for k, v in query.items() if k != "page" and v}
        return web.page(
            request,
            "search.html",
            title="Search",
            q=text,
            params=query,
            hits=hits,
            page=page,
            first=(page - 1) * size + 1,
            more=more,
            prev_url=f"/search?{urlencode({**base, 'page': page - 1})}" if page > 1 else None,
            next_url=f"/search?{urlencode({**base, 'page': page + 1})}" if more else None,
            problems=problems,
            facets=facets,
            counted=len(found),
            all_counted=len(found) < fetched,
            page_counted=len(found) == wanted and fetched == wanted,
            known=known,
            flags=[(ANY_FLAG, "any flag"), *FLAG_LABELS.items()],
            criteria=[(cid, c.name) for cid, c in web.criteria.items()],
            flag_labels=FLAG_LABELS,
        )

    def chosen_period(request: Request, agents: list[str] | None, teams: list[str] | None) -> reports.Period:
        query = request.query_params

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(query[name]) if query.get(name) else None
            except ValueError:
                return None

        on = day("on")
        if on is None:  # the newest day with data, else today
            newest = web.store.latest_start(agents, teams)
            on = newest.date() if newest else datetime.now(UTC).date()
        kind = query.get("period", "week")
        return reports.period_of(kind if kind in reports.PERIODS else "week", on, day("since"), day("until"))

    def page_of(
        request: Request, who: dict[str, Any], title: str, kind: str, team_page: bool, **extra: Any
    ) -> Response:
        user: auth.User = request.state.user
        agents, teams = who.get("agents"), who.get("teams")
        scope = user.scope()
        if "teams" in scope:  # a coach or supervisor: only their teams' interactions count
            teams = [t for t in (teams or scope["teams"]) if t in scope["teams"]]
        period = chosen_period(request, agents, teams)
        since, until = period.bounds()
        names = {cid: c.name for cid, c in web.criteria.items()}
        if request.url.path.endswith(".csv"):
            body = reports.csv_export(web.store.period_results(agents, teams, since, until), names)
            filename = f"{kind}-{title}-{period.start.isoformat()}.csv".replace('"', "")
            disposition = f'attachment; filename="{filename}"'
            headers = {"Content-Disposition": disposition}
            return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
        data = reports.gather(web.store, agents, teams, period, settings.fcr_window_days)
        before, after = period.step(-1), period.step(1)
        return web.page(
            request,
            "report.html",
            title=title,
            kind=kind,
            period=period,
            prev_url=f"?{urlencode(before.query())}" if before else None,
            next_url=f"?{urlencode(after.query())}" if after else None,
            csv_url=f"{request.url.path}.csv?{urlencode(period.query())}",
            report=reports.report(data, names, period),
            compare=reports.comparison(data.by_agent, names) if team_page else None,
            agent_links={
                a: f"/agents/{quote(a)}?{urlencode(period.query())}"
                for a in {t["agent_id"] for t in data.by_agent}
            },
            periods=reports.PERIODS,
            notice=request.query_params.get("notice", ""),
            agent_id=title if kind == "agent" else None,
            **extra,
        )

    @app.get("/agents/{agent_id}", response_class=HTMLResponse)  # .../a1.csv: the CSV export
    def agent_page(request: Request, agent_id: str) -> Response:
        user: auth.User = request.state.user
        agent_id = agent_id.removesuffix(".csv")
        if user.role == "agent" and agent_id != user.agent_id:
            return web.not_found(request)
        if not web.store.has_interactions([agent_id], user.scope().get("teams")):  # unknown, or not theirs
            return web.not_found(request)
        return page_of(
            request,
            {"agents": [agent_id]},
            agent_id,
            "agent",
            team_page=False,
            coaching=web.store.find_coaching(agent_id),
            may_coach=user.is_lead or user.role == "coach",
        )

    @app.get("/teams/{team}", response_class=HTMLResponse)  # .../billing.csv: the CSV export
    def team_page(request: Request, team: str) -> Response:
        user: auth.User = request.state.user
        team = team.removesuffix(".csv")
        if (not user.is_lead and team not in user.teams) or not web.store.has_interactions(teams=[team]):
            return web.not_found(request)
        return page_of(request, {"teams": [team]}, team, "team", team_page=True)

    @app.post("/comments")
    async def comment(request: Request) -> Response:
        user: auth.User = request.state.user
        data = await posted(request)
        item = scoped_interaction(user, data.get("interaction_id", ""))
        if item is None:
            return web.not_found(request)
        text = data.get("text", "").strip()
        criterion = data.get("criterion") or None
        if not text:
            return RedirectResponse(_with_notice(item.id, "a comment needs some words"), status_code=303)
        web.store.add_comment(
            item.id, criterion if criterion in web.criteria else None, text[:4000], user.username
        )
        return RedirectResponse(_with_notice(item.id, "comment added"), status_code=303)

    @app.post("/coaching")
    async def coaching(request: Request) -> Response:
        user: auth.User = request.state.user
        data = await posted(request)
        agent_id = data.get("agent_id", "")
        teams = user.scope().get("teams")
        in_scope = user.role in ("lead", "coach") and web.store.has_interactions([agent_id], teams)
        if not in_scope:
            return web.not_found(request)
        wanted = [w.strip() for w in data.get("interactions", "").split() if w.strip()]
        linked = [i.id for i in web.store.load_interactions(wanted) if i.agent_id == agent_id]
        follow_up = data.get("follow_up", "")
        try:
            follow_up = date.fromisoformat(follow_up).isoformat() if follow_up else ""
        except ValueError:
            follow_up = ""
        notes = data.get("notes", "").strip()[:8000]
        back = f"/agents/{quote(agent_id)}"
        if not notes:
            return RedirectResponse(
                back + "?" + urlencode({"notice": "a coaching session needs notes"}) + "#coaching", 303
            )
        record = {
            "agent_id": agent_id,
            "notes": notes,
            "interactions": linked,
            "follow_up": follow_up or None,
        }
        web.store.add_coaching(record, user.username)
        return RedirectResponse(
            back + "?" + urlencode({"notice": "coaching session saved"}) + "#coaching", 303
        )

    # Calibration: the lead picks interactions and graders; each grader grades blind.
    GRADERS = ("lead", "coach", "supervisor")

    @app.get("/calibration", response_class=HTMLResponse)
    def calibration_list(request: Request) -> Response:
        user: auth.User = request.state.user
        sessions = [s for s in web.store.calibrations() if user.is_lead or user.username in s.graders]
        graders = [u for u in web.store.list_users() if u.role in GRADERS and not u.disabled]
        notice = request.query_params.get("notice", "")
        return web.page(
            request,
            "calibration_list.html",
            title="Calibration",
            sessions=sessions,
            graders=graders,
            notice=notice,
        )

    @app.post("/calibration")
    async def calibration_create(request: Request) -> Response:
        user: auth.User = request.state.user
        data = await posted(request)
        if not user.is_lead:
            return web.not_found(request)
        wanted = [line.strip() for line in data.get("interactions", "").splitlines() if line.strip()]
        ids = list(dict.fromkeys(wanted))
        found = {i.id for i in web.store.load_interactions(ids)}
        graders = request.state.lists.get("graders", [])
        known = {u.username for u in web.store.list_users() if u.role in GRADERS and not u.disabled}
        problems = [f"no interaction {i!r}" for i in ids if i not in found]
        problems += [f"{g!r} cannot grade" for g in graders if g not in known]
        if not ids or len(graders) < 2:
            problems.append("a session needs interactions and at least two graders")
        name = data.get("name", "").strip()[:200] or "calibration"
        if problems:
            return RedirectResponse(
                "/calibration?" + urlencode({"notice": "; ".join(problems)}), status_code=303
            )
        number = web.store.create_calibration(name, ids, graders, user.username)
        return RedirectResponse(f"/calibration/{number}", status_code=303)

    def session_for(user: auth.User, session_id: int) -> Any:
        found = web.store.calibrations(session_id)
        if not found or not (user.is_lead or user.username in found[0].graders):
            return None
        return found[0]

    def grading_done(session: Any, username: str) -> bool:
        mine = {g.interaction_id for g in web.store.grades(session.id) if g.grader == username}
        return set(session.interactions) <= mine

    @app.get("/calibration/{session_id}", response_class=HTMLResponse)
    def calibration_session(request: Request, session_id: int) -> Response:
        user: auth.User = request.state.user
        session = session_for(user, session_id)
        if session is None:
            return web.not_found(request)
        mine = {g.interaction_id for g in web.store.grades(session_id) if g.grader == user.username}
        may_see = user.is_lead or grading_done(session, user.username)
        report = None
        if may_see:
            machine: dict[str, dict[str, str]] = {}
            for iid in session.interactions:
                scored = web.store.load_scores(iid)
                if scored:
                    machine[iid] = {c: r.original or r.result for c, r in scored[0].criteria.items()}
            report = calibration.agreement(
                session.interactions, session.graders, web.store.grades(session_id), machine
            )
        names = {cid: c.name for cid, c in web.criteria.items()}
        return web.page(
            request,
            "calibration.html",
            title=session.name,
            session=session,
            mine=mine,
            report=report,
            names=names,
        )

    @app.get("/calibration/{session_id}/grade/{interaction_id:path}", response_class=HTMLResponse)
    def calibration_grade_form(request: Request, session_id: int, interaction_id: str) -> Response:
        user: auth.User = request.state.user
        session = session_for(user, session_id)
        if (
            session is None
            or user.username not in session.graders
            or interaction_id not in session.interactions
        ):
            return web.not_found(request)
        found = web.store.load_interactions([interaction_id])
        scored = web.store.load_scores(interaction_id)
        if not found or not scored:
            return web.not_found(request)
        item = found[0]
        given = {
            g.criterion: g.result
            for g in web.store.grades(session_id)
            if g.grader == user.username and g.interaction_id == interaction_id
        }
        criteria = [
            (cid, web.criteria[cid].name if cid in web.criteria else cid) for cid in scored[0].criteria
        ]
        view = interaction_page(item, [], web.criteria, (None, ""))  # the conversation only: blind
        position = session.interactions.index(interaction_id)
        following = session.interactions[position + 1] if position + 1 < len(session.interactions) else None
        return web.page(
            request,
            "calibration_grade.html",
            title=f"Grade {interaction_id}",
            session=session,
            item=item,
            turns=view["turns"],
            criteria=criteria,
            given=given,
            following=following,
        )

    @app.post("/calibration/{session_id}/grade")
    async def calibration_grade(request: Request, session_id: int) -> Response:
        user: auth.User = request.state.user
        data = await posted(request)
        session = session_for(user, session_id)
        interaction_id = data.get("interaction_id", "")
        if (
            session is None
            or user.username not in session.graders
            or interaction_id not in session.interactions
        ):
            return web.not_found(request)
        results = {
            k.removeprefix("result_"): v
            for k, v in data.items()
            if k.startswith("result_") and v in ("pass", "fail", "na")
        }
        if results:
            web.store.save_grades(session_id, interaction_id, user.username, results)
        following = data.get("following", "")
        if following in session.interactions:
            return RedirectResponse(
                f"/calibration/{session_id}/grade/{quote(following, safe=':')}", status_code=303
            )
        return RedirectResponse(f"/calibration/{session_id}", status_code=303)

    @app.get("/runs", response_class=HTMLResponse)
    def runs_page(request: Request, run: str = "") -> Response:
        """Leads only (quarantined records are redacted copies of raw input): the newest runs,
        and what the chosen run (default: the newest) quarantined, counted by reason."""
        if not request.state.user.is_lead:
            return web.not_found(request)
        listed = web.store.runs(30)
        chosen = run or (listed[0]["id"] if listed else "")
        # a run older than the listed ones is looked up; the listed ones are known to exist
        if chosen and chosen not in {r["id"] for r in listed} and not web.store.runs(1, chosen):
            return web.not_found(request)
        listing = web.store.quarantined(chosen, limit=200) if chosen else None
        return web.page(request, "runs.html", title="Runs", runs=listed, chosen=chosen, listing=listing)

    @app.get("/audit", response_class=HTMLResponse)
    def audit(request: Request) -> Response:
        if not request.state.user.is_lead:
            return web.not_found(request)
        return web.page(request, "audit.html", title="Audit log", entries=web.store.audit_entries(500))

    return app


def _with_notice(interaction_id: str, notice: str) -> str:
    return f"/interactions/{quote(interaction_id, safe=':')}?{urlencode({'notice': notice})}#criteria"


def _audio_file(source: str | None) -> Path | None:
    """The recording behind a call, when it is still where it was ingested from."""
    if not source:
        return None
    path = Path(source)
    return path if path.suffix.lower() in AUDIO and path.is_file() else None


def _facets(hits: list[Any]) -> dict[str, list[tuple[str, int]]]:
    """Counts of the results, per channel, team and flag."""
    counts: dict[str, dict[str, int]] = {"channel": {}, "team": {}, "flag": {}}
    for h in hits:
        counts["channel"][h.channel] = counts["channel"].get(h.channel, 0) + 1
        if h.team:
            counts["team"][h.team] = counts["team"].get(h.team, 0) + 1
        for f in h.flags:
            counts["flag"][f] = counts["flag"].get(f, 0) + 1
    return {k: sorted(v.items(), key=lambda kv: -kv[1]) for k, v in counts.items()}
