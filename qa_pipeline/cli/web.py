"""qa serve, and qa users add | passwd | disable | list | demo: the web app and its accounts."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated

import typer

from qa_pipeline.cli._app import ConfigOption, app, friendly, store_for, users_app
from qa_pipeline.errors import QAError

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from standard input (one line)")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise QAError("give the password on standard input with --password-stdin")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise QAError("the two passwords differ")
    return str(first)


@users_app.command("add")
@friendly
def users_add(
    username: Annotated[str, typer.Argument(help="the name to sign in with")],
    role: Annotated[str, typer.Option(help="lead, coach, supervisor or agent")],
    team: Annotated[list[str] | None, typer.Option(help="a team a coach or supervisor sees (repeat)")] = None,
    agent_id: Annotated[str | None, typer.Option(help="agents: their agent id in the data")] = None,
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Add an account. QA leads see everything, coaches and supervisors their teams, agents themselves."""
    from qa_pipeline.web.auth import account

    row = account(username, role, team or [], agent_id, _password(password_stdin))
    store_for(config).add_user(row, actor="cli")
    typer.echo(f"added {username} ({role})")


@users_app.command("passwd")
@friendly
def users_passwd(
    username: Annotated[str, typer.Argument(help="whose password")],
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Set a new password (signs the user out everywhere) and enable the account again."""
    from qa_pipeline.web.auth import hash_password

    hashed = hash_password(_password(password_stdin))
    store_for(config).change_user(username, {"password_hash": hashed, "disabled": 0}, "cli", "user.passwd")
    typer.echo(f"new password for {username}")


@users_app.command("disable")
@friendly
def users_disable(
    username: Annotated[str, typer.Argument(help="whose account")], config: ConfigOption = None
) -> None:
    """Disable an account: its sessions end at once and it cannot sign in (passwd enables it again)."""
    store_for(config).change_user(username, {"disabled": 1}, actor="cli", action="user.disable")
    typer.echo(f"disabled {username}")


@users_app.command("list")
@friendly
def users_list(config: ConfigOption = None) -> None:
    """List the accounts with their roles, teams and agent ids."""
    for row in store_for(config).list_users():
        scope = ", ".join(row.teams or []) or row.agent_id or "everything"
        typer.echo(f"{row.username:20} {row.role:10} {scope}{'  (disabled)' if row.disabled else ''}")


@users_app.command("demo")
@friendly
def users_demo(config: ConfigOption = None) -> None:
    """Create (or reset) one account per role for the demo night, and print their passwords."""
    from qa_pipeline.web.auth import account, hash_password

    store = store_for(config)
    known = store.known_values()
    teams, agents = known["teams"] or ["support"], known["agents"] or ["a1"]
    people = [
        ("lead", "lead", [], None),
        ("coach", "coach", teams[:1], None),
        ("supervisor", "supervisor", teams, None),
        ("agent", "agent", [], next((a for a in agents if a != "unknown"), agents[0])),
    ]
    typer.echo("demo accounts (sign in at http://127.0.0.1:8000/login after `qa serve`):")
    for username, role, team, agent_id in people:
        password = secrets.token_urlsafe(9)
        if store.find_user(username=username) is None:
            store.add_user(account(username, role, team, agent_id, password), actor="demo")
        else:
            changes = {"password_hash": hash_password(password), "disabled": 0}
            store.change_user(username, changes, "demo", "user.passwd")
        sees = f"teams {', '.join(team)}" if team else f"agent {agent_id}" if agent_id else "everything"
        typer.echo(f"  {username:11} password {password:14} ({role}: {sees})")


@app.command()
@friendly
def serve(
    host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0: every interface)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    config: ConfigOption = None,
) -> None:
    """Serve the web app for coaches, supervisors, QA leads and agents: interactions, search."""
    import uvicorn

    from qa_pipeline.settings import load_settings
    from qa_pipeline.web.app import create_app

    settings = load_settings(config)
    application = create_app(settings)
    if not application.state.web.store.list_users():
        typer.echo("no accounts yet: add one with `qa users add NAME --role lead --password-stdin`", err=True)
    typer.echo(f"qa-pipeline on http://{host}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=False)
