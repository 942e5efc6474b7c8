"""Webhooks against a real HTTP receiver that verifies them with the Standard Webhooks
reference library, and that fails, hangs, redirects and drops the connection."""

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from surveys.extensions import db
from surveys.webhooks.models import WebhookMessage
from surveys.webhooks.services import emit


class Receiver:
    """What the receiver was sent, and how it answers next (a list of statuses, or
    "hang", "drop" or "redirect")."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], str]] = []
        self.answers: list[object] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            answer = state.answers.pop(0) if state.answers else 204
            if answer == "hang":
                time.sleep(6)
                return
            if answer == "drop":
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if answer == "redirect":
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            else:
                self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()


def add(runner, url, events="answer.created,follow_up.created"):
    result = runner.invoke(args=["webhooks", "add", url, "--events", events])
    assert result.exit_code == 0, result.output
    return re.search(r"Signing secret \(shown once\): (whsec_\S+)", result.output).group(1)


def fire(app, event="answer.created", data=None):
    with app.app_context():
        count = emit(db.session, event, data or {"response_id": 7, "score": 3}, datetime.now(UTC))
        db.session.commit()
    return count


def tick(runner):
    result = runner.invoke(args=["campaigns", "tick"])
    assert result.exit_code == 0, result.output


def messages(app):
    with app.app_context():
        return db.session.execute(
            sa.select(
                WebhookMessage.state, WebhookMessage.attempts, WebhookMessage.last_error
            ).order_by(WebhookMessage.id)
        ).all()


def test_a_signed_post_the_reference_library_accepts(app, runner):
    with receiver() as hooks:
        secret = add(runner, hooks.url)
        assert fire(app) == 1
        tick(runner)
        [(headers, body)] = hooks.requests
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "answer.created"
    assert payload["data"] == {"response_id": 7, "score": 3}
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    assert messages(app) == [("sent", 1, None)]
    # a tampered body or another secret is refused by the same library
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body.replace("7", "8"), headers)


def test_a_failing_receiver_gets_it_again_with_the_same_id(database_url, smtp_server):
    from tests.conftest import build_app

    app = build_app(database_url, MAIL_PORT=smtp_server.port, WEBHOOK_RETRY_DELAYS=[1, 1])
    runner = app.test_cli_runner()
    with receiver() as hooks:
        add(runner, hooks.url)
        hooks.answers = [503, "drop"]
        fire(app)
        tick(runner)
        assert messages(app)[0][:2] == ("failed", 1)
        assert "503" in messages(app)[0][2]
        tick(runner)  # not due yet
        assert len(hooks.requests) == 1
        time.sleep(1.1)
        tick(runner)
        assert messages(app)[0][:2] == ("failed", 2)
        time.sleep(1.1)
        tick(runner)
        assert messages(app) == [("sent", 3, None)]
        ids = {headers["webhook-id"] for headers, _ in hooks.requests}
    assert len(hooks.requests) == 3 and len(ids) == 1


def test_a_receiver_that_hangs_times_out_and_redirects_are_not_followed(database_url, smtp_server):
    from tests.conftest import build_app

    app = build_app(database_url, MAIL_PORT=smtp_server.port, WEBHOOK_RETRY_DELAYS=[1])
    runner = app.test_cli_runner()
    with receiver() as hooks:
        add(runner, hooks.url)
        hooks.answers = ["hang", "redirect"]
        fire(app)
        started = time.monotonic()
        tick(runner)
        assert time.monotonic() - started < 6  # the 5-second timeout, not the receiver
        assert messages(app)[0][0] == "failed"
        assert "timed out" in messages(app)[0][2]
        time.sleep(1.1)
        tick(runner)
        state, attempts, error = messages(app)[0]
        assert (state, attempts) == ("failed", 2) and error.startswith("302")
        time.sleep(1.1)
        tick(runner)
        assert messages(app)[0][:2] == ("failed", 2)  # given up: no more tries on its own


def test_only_the_events_asked_for_and_nothing_to_a_webhook_turned_off(app, runner):
    with receiver() as hooks:
        add(runner, hooks.url, events="follow_up.created")
        assert fire(app, "answer.created") == 0
        assert fire(app, "follow_up.created", {"follow_up_id": 1}) == 1
        result = runner.invoke(args=["webhooks", "deactivate", "1"])
        assert result.exit_code == 0
        assert fire(app, "follow_up.created") == 0
        tick(runner)
        assert hooks.requests == []  # the one queued before it was turned off stays unsent
    listing = runner.invoke(args=["webhooks", "list"]).output
    assert listing.startswith("1\toff\tfollow_up.created\thttp://127.0.0.1:")


@pytest.mark.parametrize(
    ("url", "events", "message"),
    [
        ("ftp://example.com/x", "answer.created", "must start with https://"),
        ("https://user:pw@example.com/x", "answer.created", "user name or password"),
        ("https://example.com/a b", "answer.created", "a space"),
        ("https://example.com/\r\nX: y", "answer.created", "control character"),
        ("https://" + "a" * 2000 + ".com", "answer.created", "longer than 2000"),
        ("https://example.com/x", "answer.deleted", "unknown event answer.deleted"),
        ("https://example.com/x", ",", "name at least one event"),
    ],
)
def test_hostile_webhooks_are_refused(app, runner, url, events, message):
    result = runner.invoke(args=["webhooks", "add", url, "--events", events])
    assert result.exit_code != 0 and message in result.output
    assert runner.invoke(args=["webhooks", "list"]).output == ""


def test_admins_add_and_turn_off_webhooks_on_a_page(app, client, runner):
    with receiver() as hooks:
        page = client.post(
            "/admin/webhooks/", data={"url": hooks.url, "events": ["answer.created"]}
        )
        assert page.status_code == 200
        secret = re.search(
            r'<code class="secret">(whsec_[^<]+)</code>', page.get_data(as_text=True)
        )
        assert secret
        fire(app)
        tick(runner)
        Webhook(secret.group(1)).verify(hooks.requests[0][1], hooks.requests[0][0])
    log = client.get("/admin/webhooks/").get_data(as_text=True)
    assert "answer.created" in log and "sent" in log and secret.group(1) not in log
    bad = client.post(
        "/admin/webhooks/", data={"url": "javascript:alert(1)", "events": ["answer.created"]}
    )
    assert bad.status_code == 400
    assert client.post("/admin/webhooks/1/deactivate").status_code == 302
    assert client.post("/admin/webhooks/99/deactivate").status_code == 404
    body = json.loads(hooks.requests[0][1])
    assert body["type"] == "answer.created"


def test_a_new_answer_and_its_follow_up_reach_the_receiver(app, runner, make_account, smtp_sink):
    from surveys.delivery.queue import wait_for_background
    from tests.helpers import create_campaign, send, token_of

    made = make_account({"language": "sv"}, external_id="HOOK", name="Krok AB")
    with receiver() as hooks:
        secret = add(runner, hooks.url)
        send(runner, create_campaign(runner))
        [message] = smtp_sink.messages
        client = app.test_client()
        answered = client.post(
            f"/r/{token_of(message)}",
            data={"score": "3", "reason": "price", "comment": "För dyrt"},
        )
        assert answered.status_code == 303
        wait_for_background()
        # answering again is no new answer and opens no second follow-up
        client.post(f"/r/{token_of(message)}", data={"score": "4"})
        wait_for_background()
        events = [Webhook(secret).verify(body, headers) for headers, body in hooks.requests]
    assert sorted(event["type"] for event in events) == ["answer.created", "follow_up.created"]
    answer = next(event["data"] for event in events if event["type"] == "answer.created")
    assert answer["score"] == 3 and answer["reason"] == "price"
    assert answer["account"] == {"account_id": "HOOK", "name": "Krok AB"}
    assert "price" in answer["reasons_found"]
    follow_up = next(event["data"] for event in events if event["type"] == "follow_up.created")
    assert follow_up["answer_id"] == answer["answer_id"] and follow_up["state"] == "open"
    assert made
