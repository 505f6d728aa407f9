"""Pull new records from a help desk's HTTP API since the source's watermark.

Pages are followed through the links the vendors use (``next_page``, ``after_url``,
``links.next``, Intercom's ``pages.next.starting_after``, or a ``Link: rel="next"``
header) until ``end_of_stream`` or no next page. 429 and 5xx answers are retried with
exponential back-off, waiting at least what ``Retry-After`` asks. The records are
written to a JSONL staging file that the source's format reader then ingests, so a
pull and a file export take the same path from there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from qa_pipeline.errors import InputError
from qa_pipeline.registry import Registry

RETRY_STATUSES = {429, 500, 502, 503, 504}

# Per format: fetch what a listed record lacks (e.g. a ticket's comments) -> full record.
Expander = Callable[["Pager", dict[str, Any], str], dict[str, Any]]  # (pager, record, listing URL)
expanders: Registry[Expander] = Registry("pull expander", "qa_pipeline.pull_expanders")


class Pager:
    """An HTTP client for one source: auth header, retries with back-off, and paging."""

    def __init__(
        self,
        token: str | None,
        *,
        retries: int = 5,
        backoff: float = 1.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.client = httpx.Client(
            headers=headers, timeout=timeout, transport=transport, follow_redirects=True
        )
        self.retries, self.backoff, self.sleep = retries, backoff, sleep
        self.requests = 0

    def get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET with retries on 429/5xx and network errors; raise InputError when retries run out."""
        for attempt in range(self.retries + 1):
            self.requests += 1
            try:
                response = self.client.get(url, params=params)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise InputError(f"cannot reach {url} ({exc})", source=url) from exc
                self.sleep(self.backoff * 2**attempt)
                continue
            if response.status_code not in RETRY_STATUSES:
                if response.status_code >= 400:
                    raise InputError(
                        f"{url} answered {response.status_code}: {response.text[:200]}", source=url
                    )
                pause = rate_limit_pause(response)
                if pause:  # the quota is spent: wait for its reset instead of earning a 429
                    self.sleep(pause)
                return response
            if attempt == self.retries:
                raise InputError(
                    f"{url} still answered {response.status_code} after {self.retries} retries", source=url
                )
            self.sleep(max(retry_after(response), self.backoff * 2**attempt))
        raise AssertionError("unreachable")

    def pages(
        self, url: str, params: dict[str, Any] | None, key: str | None
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's records (the ``key`` list, or the page itself if it is a list)."""
        while url:
            response = self.get(url, params)
            body = response.json()
            records = body if isinstance(body, list) else body.get(key or "", [])
            yield records
            url, params = next_page(response, body, url, params)

    def close(self) -> None:
        self.client.close()


REMAINING = ("X-RateLimit-Remaining", "X-Rate-Limit-Remaining", "RateLimit-Remaining")
RESET = ("X-RateLimit-Reset", "X-Rate-Limit-Reset", "RateLimit-Reset")
MAX_PAUSE = 900.0  # a reset further away than this is a misread header, not a plan


def rate_limit_pause(response: httpx.Response) -> float:
    """Seconds to wait when the response says no requests are left (reset as seconds or epoch)."""
    remaining = next((response.headers[h] for h in REMAINING if h in response.headers), None)
    reset = next((response.headers[h] for h in RESET if h in response.headers), None)
    try:
        if remaining is None or int(float(remaining)) > 0 or reset is None:
            return 0.0
        value = float(reset)
    except ValueError:
        return 0.0
    wait = value - time.time() if value > 1e9 else value  # Intercom sends an epoch, others seconds
    return min(max(wait, 0.0), MAX_PAUSE)


def retry_after(response: httpx.Response) -> float:
    """Seconds the server asks us to wait (Retry-After as seconds or a date, or the rate-limit reset)."""
    value = response.headers.get("Retry-After") or response.headers.get("X-RateLimit-Reset-After")
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(
                0.0,
                (
                    parsedate_to_datetime(value) - datetime.now(parsedate_to_datetime(value).tzinfo)
                ).total_seconds(),
            )
        except (TypeError, ValueError):
            return 0.0


def api_root(url: str) -> str:
    """``scheme://host`` of a URL: where a vendor's other endpoints live."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}"


def next_page(
    response: httpx.Response, body: Any, url: str, params: dict[str, Any] | None
) -> tuple[str, dict | None]:
    """The next page's URL and params, or ("", None) at the end."""
    if isinstance(body, dict):
        if body.get("end_of_stream") is True:
            return "", None
        for link in (body.get("after_url"), body.get("next_page"), (body.get("links") or {}).get("next")):
            if isinstance(link, str) and link:
                return link, None  # these links carry their own query string
        after = (body.get("pages") or {}).get("next") or {}
        if isinstance(after, dict) and after.get("starting_after"):
            return url, {**(params or {}), "starting_after": after["starting_after"]}
    link = response.links.get("next", {}).get("url")
    return (str(response.url.join(link)), None) if link else ("", None)


def pull_source(
    url: str,
    *,
    key: str | None,
    since_param: str | None,
    since: datetime | None,
    since_format: str,
    out: Path,
    token: str | None,
    fmt: str,
    pager: Pager | None = None,
) -> tuple[Path, int]:
    """Pull every record changed since ``since`` into the JSONL file ``out``; return it and the count.

    Writes to a temporary file renamed at the end, so a failed pull leaves no partial file.
    """
    pager = pager or Pager(token)
    params: dict[str, Any] = {}
    if since_param and since is not None:
        params[since_param] = int(since.timestamp()) if since_format == "unix" else since.isoformat()
    expand = expanders.get(fmt) if fmt in expanders.names() else None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    count = 0
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            for records in pager.pages(url, params or None, key):
                for record in records:
                    full = expand(pager, record, url) if expand else record
                    handle.write(json.dumps(full, ensure_ascii=False) + "\n")
                    count += 1
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
        pager.close()
    return out, count
