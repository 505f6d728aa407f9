"""A local HTTP server that behaves like the Zendesk API, for pull tests (loopback only)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TICKETS = [
    {
        "id": 501,
        "subject": "Refund",
        "status": "solved",
        "requester_id": 1,
        "assignee_id": 394,
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T11:00:00Z",
    },
    {
        "id": 502,
        "subject": "Login",
        "status": "open",
        "requester_id": 2,
        "assignee_id": 395,
        "created_at": "2026-11-20T12:00:00Z",
        "updated_at": "2026-11-20T12:30:00Z",
    },
]
USERS = [
    {"id": 1, "name": "Jane", "role": "end-user"},
    {"id": 2, "name": "Bob", "role": "end-user"},
    {"id": 394, "name": "Sarah K.", "role": "agent"},
    {"id": 395, "name": "Mark D.", "role": "agent"},
]
COMMENTS = {
    501: [
        [
            {
                "id": 1,
                "author_id": 1,
                "public": True,
                "created_at": "2026-11-20T10:00:00Z",
                "body": "Where is my refund?",
            }
        ],
        [
            {
                "id": 2,
                "author_id": 394,
                "public": True,
                "created_at": "2026-11-20T10:05:00Z",
                "body": "Hello Jane, I'm sorry for the wait. I have issued the refund. Thank you!",
            }
        ],
    ],
    502: [
        [
            {
                "id": 3,
                "author_id": 2,
                "public": True,
                "created_at": "2026-11-20T12:00:00Z",
                "body": "I cannot log in",
            },
            {
                "id": 4,
                "author_id": 395,
                "public": False,
                "created_at": "2026-11-20T12:01:00Z",
                "body": "known bug",
            },
            {
                "id": 5,
                "author_id": 395,
                "public": True,
                "created_at": "2026-11-20T12:10:00Z",
                "body": "Hi Bob, I have reset your password. Thanks!",
            },
        ]
    ],
}


class FakeZendesk:
    """Serves the incremental ticket export and ticket comments, with a 429 and a 500 on the way.

    ``fail_always`` makes every request answer 500. ``requests`` records (path, query) of each request.
    """

    def __init__(self, fail_always: bool = False):
        self.fail_always = fail_always
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.failed_once: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                server.requests.append((url.path, query))
                status, body, headers = server.answer(url.path, query)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, object, dict[str, str]]:
        if self.fail_always:
            return 500, {"error": "down"}, {}
        if path == "/api/v2/incremental/tickets/cursor.json":
            if "first-429" not in self.failed_once:
                self.failed_once.add("first-429")
                return 429, {"error": "RateLimited"}, {"Retry-After": "2"}
            if query.get("cursor") == ["c2"]:
                return 200, {"tickets": [TICKETS[1]], "after_url": None, "end_of_stream": True}, {}
            return (
                200,
                {
                    "tickets": [TICKETS[0]],
                    "after_url": f"{self.base}{path}?cursor=c2",
                    "end_of_stream": False,
                },
                {},
            )
        if path.startswith("/api/v2/tickets/") and path.endswith("/comments.json"):
            ticket = int(path.split("/")[4])
            if ticket == 501 and "comments-500" not in self.failed_once:
                self.failed_once.add("comments-500")
                return 500, {"error": "oops"}, {}
            pages = COMMENTS[ticket]
            page = int(query.get("page", ["1"])[0])
            more = page < len(pages)
            next_page = f"{self.base}{path}?include=users&page={page + 1}" if more else None
            return 200, {"comments": pages[page - 1], "users": USERS, "next_page": next_page}, {}
        return 404, {"error": "not found"}, {}

    def __enter__(self) -> FakeZendesk:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class WebhookSink:
    """Collects the JSON bodies POSTed to it (a notification target on loopback)."""

    def __init__(self):
        self.received: list[dict] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                sink.received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/qa"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> WebhookSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
