"""Accounts, passwords and sessions of the web app.

Passwords are Argon2 hashes. A session is a random id: the cookie carries it signed (HMAC
with the installation's secret), the database keeps only its SHA-256, so a copy of the
database opens no session. Logging in always starts a new session (no fixation); each
session has its own CSRF token that every form must send back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qa_pipeline.errors import QAError
from qa_pipeline.store import Store

ROLES = ("lead", "coach", "supervisor", "agent")
MIN_PASSWORD = 10
USERNAME = re.compile(r"[\w.-]{1,64}")
_HASHER = PasswordHasher()
# Compared against when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anybody")


@dataclass(frozen=True)
class User:
    """Who is signed in, and what they may see."""

    id: int
    username: str
    role: str
    teams: tuple[str, ...] = ()
    agent_id: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> User:
        return cls(row.id, row.username, row.role, tuple(row.teams or ()), row.agent_id)

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    def sees(self, agent_id: str | None, team: str | None) -> bool:
        """Whether an interaction of this agent and team is in this user's view: QA leads see
        everything, coaches and supervisors their teams, agents only themselves."""
        if self.role == "lead":
            return True
        if self.role == "agent":
            return self.agent_id is not None and agent_id == self.agent_id
        return team is not None and team in self.teams

    def scope(self) -> dict[str, Any]:
        """The same rule as search filters: {} (all), {"agents": [...]} or {"teams": [...]}."""
        if self.role == "lead":
            return {}
        if self.role == "agent":
            return {"agents": [self.agent_id or "\x00none"]}
        return {"teams": list(self.teams) or ["\x00none"]}


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise QAError(f"a password needs at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def account(
    username: str, role: str, teams: list[str], agent_id: str | None, password: str
) -> dict[str, Any]:
    """A new account's row, checked: a known role, agents tied to an agent id, coaches and
    supervisors to at least one team."""
    if not USERNAME.fullmatch(username):
        raise QAError("a username is 1 to 64 letters, digits, '.', '-' or '_'")
    if role not in ROLES:
        raise QAError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "agent" and not agent_id:
        raise QAError("an agent account needs --agent-id (the agent's id in the data)")
    if role in ("coach", "supervisor") and not teams:
        raise QAError(f"a {role} account needs at least one --team")
    return {
        "username": username,
        "role": role,
        "teams": sorted(set(teams)),
        "agent_id": agent_id or None,
        "password_hash": hash_password(password),
    }


def _mac(secret: bytes, value: str) -> str:
    digest = hmac.new(secret, value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: bytes, value: str) -> str:
    return f"{value}.{_mac(secret, value)}"


def unsign(secret: bytes, signed: str | None) -> str | None:
    """The value of a signed cookie, or None when it is missing or was tampered with."""
    if not signed or "." not in signed:
        return None
    value, mac = signed.rsplit(".", 1)
    return value if hmac.compare_digest(mac, _mac(secret, value)) else None


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_session(store: Store, user_id: int, hours: float) -> str:
    """Start a session for the user; the new random session id (for the cookie)."""
    session_id = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=hours)
    store.start_session(user_id, session_hash(session_id), secrets.token_urlsafe(32), expires)
    return session_id


def login_allowed(store: Store, username: str, client: str, attempts: int, minutes: float) -> bool:
    """False while this username, or this client, has had ``attempts`` failed logins in the window."""
    since = datetime.now(UTC) - timedelta(minutes=minutes)
    by_name, by_client = store.login_failures_since(username, client, since)
    return by_name < attempts and by_client < attempts * 4
