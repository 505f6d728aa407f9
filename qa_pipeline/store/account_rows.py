"""Accounts of the web app in the results database: users, sessions, failed logins, and the
audit log that every change to them (and, later, to disputes and coaching) is written to in
the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from qa_pipeline.errors import QAError
from qa_pipeline.schema import audit_log, login_failures, users, web_sessions
from qa_pipeline.store.run_rows import aware

# What an account row shows of itself in the audit log: never the password hash.
PUBLIC = ("username", "role", "teams", "agent_id", "disabled")


def _public(row: Any) -> dict[str, Any] | None:
    return {k: row._mapping[k] for k in PUBLIC} if row is not None else None


def write_audit(
    conn: Connection, actor: str, action: str, target: str, before: Any = None, after: Any = None
) -> None:
    """One audit entry, inside the caller's transaction."""
    conn.execute(
        insert(audit_log).values(
            at=datetime.now(UTC), actor=actor, action=action, target=target, before=before, after=after
        )
    )


def add_user(engine: Engine, account: dict[str, Any], actor: str) -> int:
    """A new account (username, role, teams, agent_id, password_hash); its id."""
    with engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == account["username"])).first():
            raise QAError(f"user {account['username']!r} exists already; use `qa users passwd` to reset it")
        row = {**account, "disabled": 0, "created_at": datetime.now(UTC)}
        new_id = conn.execute(insert(users).values(**row)).inserted_primary_key[0]  # type: ignore[index]
        write_audit(conn, actor, "user.add", account["username"], None, {k: row[k] for k in PUBLIC})
    return int(new_id)


def change_user(engine: Engine, username: str, changes: dict[str, Any], actor: str, action: str) -> None:
    """Change an account's fields (a password change drops its sessions), audited."""
    with engine.begin() as conn:
        before = conn.execute(select(users).where(users.c.username == username)).first()
        if before is None:
            raise QAError(f"no user {username!r}; add one with `qa users add`")
        conn.execute(update(users).where(users.c.id == before.id).values(**changes))
        if "password_hash" in changes or changes.get("disabled"):
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == before.id))
        after = conn.execute(select(users).where(users.c.id == before.id)).first()
        write_audit(conn, actor, action, username, _public(before), _public(after))


def find_user(engine: Engine, username: str | None = None, user_id: int | None = None) -> Any:
    """An account row by name or id, or None."""
    query = select(users).where(
        users.c.username == username if username is not None else users.c.id == user_id
    )
    with engine.connect() as conn:
        return conn.execute(query).first()


def list_users(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(users).order_by(users.c.username)).all())


def start_session(engine: Engine, user_id: int, id_hash: str, csrf: str, expires: datetime) -> None:
    """A new session; expired sessions of anybody are cleared on the way."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
        conn.execute(
            insert(web_sessions).values(
                id_hash=id_hash, user_id=user_id, csrf=csrf, created_at=now, expires_at=expires
            )
        )


def session_user(engine: Engine, id_hash: str) -> tuple[Any, str] | None:
    """The enabled account behind a live session, and the session's CSRF token."""
    with engine.connect() as conn:
        row = conn.execute(
            select(users, web_sessions.c.csrf, web_sessions.c.expires_at)
            .join(web_sessions, web_sessions.c.user_id == users.c.id)
            .where(web_sessions.c.id_hash == id_hash)
        ).first()
    if row is None or row.disabled or aware(row.expires_at) < datetime.now(UTC):
        return None
    return row, row.csrf


def end_session(engine: Engine, id_hash: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash))


def note_login_failure(engine: Engine, username: str, client: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(login_failures).values(username=username[:64], client=client[:64], at=datetime.now(UTC))
        )


def login_failures_since(engine: Engine, username: str, client: str, since: datetime) -> tuple[int, int]:
    """Failed logins since ``since``: for this username (from anywhere), and from this client."""
    with engine.connect() as conn:
        by_name = conn.execute(
            select(func.count()).where(
                login_failures.c.username == username[:64], login_failures.c.at >= since
            )
        ).scalar_one()
        by_client = conn.execute(
            select(func.count()).where(login_failures.c.client == client[:64], login_failures.c.at >= since)
        ).scalar_one()
    return int(by_name), int(by_client)


def clear_login_failures(engine: Engine, username: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(login_failures).where(login_failures.c.username == username[:64]))


def audit_entries(engine: Engine, limit: int = 200) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)).all())
