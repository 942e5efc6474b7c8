"""The JSON API: bearer tokens (command line and page), scoping by the token's user as
they are now, cursor pagination, hostile query strings, rate limits, JSON errors, and the
OpenAPI document checked by schemathesis against the running app."""

import base64
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from surveys.accounts.models import Account, Contact
from surveys.auth.access import Scope
from surveys.auth.models import ApiToken, AuditEvent, User
from surveys.auth.tokens import create_token, token_hash
from surveys.columns import utcnow
from surveys.extensions import db
from surveys.outbox.sink import free_port
from surveys.reports.queries import AnswerFilters, answers
from surveys.reports.rows import nps_report_row
from surveys.reports.services import nps_report
from tests.conftest import build_app, sign_in
from tests.helpers import create_campaign, send, token_of

AM = "am@supplier.example"
CX = "cx@supplier.example"
LISTS = (
    "/api/v1/accounts",
    "/api/v1/contacts",
    "/api/v1/answers",
    "/api/v1/nps/accounts",
    "/api/v1/reasons/accounts",
    "/api/v1/reasons/verbatims",
)
SINGLE = ("/api/v1/nps", "/api/v1/nps/trend?by=account", "/api/v1/reasons")


def new_token(app, email: str, name: str = "test") -> str:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        token = create_token(db.session, user, name, utcnow())[1]
        db.session.commit()
        return token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(app, runner, make_account, make_user, smtp_sink):
    """Two accounts, one the account manager's, every contact answered; a user and a token
    of each role."""
    own = make_account(
        {"language": "sv", "name": "Own Contact"},
        {"language": "en", "name": "Own Second"},
        external_id="OWN",
        name="Own Account AB",
        segment="Retail",
        account_manager_email=AM,
    )
    other = make_account(
        {"language": "sv", "name": "Other Contact"},
        external_id="OTHER",
        name="Other Account AB",
        segment="Retail",
        account_manager_email="someone.else@supplier.example",
    )
    campaign_id = create_campaign(runner)
    send(runner, campaign_id)
    client = app.test_client()
    for number, message in enumerate(smtp_sink.messages):
        answered = client.post(
            f"/r/{token_of(message)}",
            data={"score": str(3 + 3 * number), "reason": "price", "comment": "För dyrt"},
        )
        assert answered.status_code in (200, 302, 303)
    users = {
        "admin": make_user("admin@supplier.example", "admin"),
        "cx": make_user(CX, "cx"),
        "account_manager": make_user(AM, "account_manager"),
    }
    tokens = {
        "admin": new_token(app, "admin@supplier.example"),
        "cx": new_token(app, CX),
        "account_manager": new_token(app, AM),
    }
    return {
        "own": own,
        "other": other,
        "campaign_id": campaign_id,
        "users": users,
        "tokens": tokens,
    }


def get(app, url, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers = {**bearer(token), **headers}
    return app.test_client().get(url, headers=headers, **kwargs)


def walk(app, url, token):
    """Every item of a list, following ``next``; and the number of pages."""
    items, pages = [], 0
    while url:
        response = get(app, url, token)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        items.extend(body["items"])
        pages += 1
        url = body["next"]
        if url:
            assert url.startswith("http://localhost/api/v1/"), url  # absolute
        assert pages < 1000
    return items, pages


# --- Tokens -----------------------------------------------------------------------------------


def test_a_token_from_the_command_line_reads_the_api_until_revoked(app, runner, make_user):
    make_user(CX, "cx")
    made = runner.invoke(args=["users", "token", "create", CX, "--name", "CRM sync"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("sv_") and len(token) >= 40 and "\n" not in token
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.token_hash == token_hash(token) and token not in row.prefix + row.token_hash
        assert row.name == "CRM sync" and row.last_used_at is None
        token_id = row.id
    assert get(app, "/api/v1/accounts", token).status_code == 200
    listed = runner.invoke(args=["users", "token", "list", CX])
    assert "CRM sync" in listed.output and token[:10] in listed.output
    assert token not in listed.output and "live" in listed.output
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is not None
    revoked = runner.invoke(args=["users", "token", "revoke", str(token_id)])
    assert revoked.exit_code == 0, revoked.output
    refused = get(app, "/api/v1/accounts", token)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="surveys", error="invalid_token"'
    again = runner.invoke(args=["users", "token", "revoke", str(token_id)])
    assert "already revoked" in again.output
    for args in (
        ["users", "token", "create", "nobody@supplier.example"],
        ["users", "token", "create", CX, "--name", "a\nb"],
        ["users", "token", "create", CX, "--name", "x" * 101],
        ["users", "token", "revoke", "999"],
        ["users", "token", "revoke", "-1"],
        ["users", "token", "revoke", "99999999999"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["api token created", "api token revoked"]
        assert token not in json.dumps(
            [e.detail for e in db.session.scalars(sa.select(AuditEvent))]
        )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic YWRtaW46cGFzc3dvcmQ=",
        "Bearer sv_not-a-token",
        "Bearer " + "sv_" + "A" * 43,
        "Bearer " + "x" * 5000,
        "Bearer sv_ÅÄÖ",
        "Token sv_whatever",
    ],
)
def test_no_token_or_a_bad_one_is_a_401_in_json(app, world, header):
    headers = {} if header is None else {"Authorization": header}
    response = app.test_client().get("/api/v1/accounts", headers=headers)
    assert response.status_code == 401
    assert response.is_json and response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="surveys"')
    assert "Set-Cookie" not in response.headers and "Location" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_a_signed_in_session_opens_nothing_in_the_api(app, world):
    client = sign_in(app.test_client(), world["users"]["admin"])
    assert client.get("/accounts/").status_code == 200
    response = client.get("/api/v1/accounts")
    assert response.status_code == 401 and response.is_json
    assert "Set-Cookie" not in response.headers


def test_a_deactivated_users_token_is_refused_and_a_role_change_applies_at_once(app, runner, world):
    token = world["tokens"]["cx"]
    assert get(app, "/api/v1/campaigns", token).status_code == 200
    runner.invoke(args=["users", "set-role", CX, "account_manager"])
    assert get(app, "/api/v1/campaigns", token).status_code == 404  # as the page would
    assert get(app, "/api/v1/accounts", token).get_json()["items"] == []  # owns none
    runner.invoke(args=["users", "set-role", CX, "cx"])
    assert len(get(app, "/api/v1/accounts", token).get_json()["items"]) == 2
    runner.invoke(args=["users", "deactivate", CX])
    assert get(app, "/api/v1/accounts", token).status_code == 401
    assert runner.invoke(args=["users", "token", "create", CX]).exit_code != 0


def test_tokens_on_the_page_are_shown_once_listed_and_revoked(app, world, make_user):
    client = sign_in(app.test_client(), world["users"]["account_manager"])
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "No tokens yet" not in page.get_data(as_text=True)
    created = client.post("/account/tokens", data={"name": "My <script> sync"})
    assert created.status_code == 200
    text = created.get_data(as_text=True)
    token = text.split('<code class="secret">')[1].split("</code>")[0]
    assert token.startswith("sv_") and "My &lt;script&gt; sync" in text
    assert "Set-Cookie" not in created.headers  # never through a flash in the cookie
    assert get(app, "/api/v1/accounts", token).status_code == 200
    listed = client.get("/account/tokens").get_data(as_text=True)
    assert token not in listed and token[:10] in listed
    assert client.post("/account/tokens", data={"name": ""}).status_code == 400
    assert client.post("/account/tokens", data={"name": "x" * 101}).status_code == 400
    assert client.post("/account/tokens", data={"name": "a\x00b"}).status_code == 400
    with app.app_context():
        mine = db.session.scalar(
            sa.select(ApiToken.id).where(ApiToken.token_hash == token_hash(token))
        )
        others = db.session.scalar(
            sa.select(ApiToken.id).join(User).where(User.email == CX).limit(1)
        )
    # another user's token is not found, for anyone but an admin
    assert client.post(f"/account/tokens/{others}/revoke").status_code == 404
    assert client.post("/account/tokens/99999/revoke").status_code == 404
    assert client.post(f"/account/tokens/{mine}/revoke").status_code == 302
    assert get(app, "/api/v1/accounts", token).status_code == 401
    assert get(app, "/api/v1/accounts", world["tokens"]["cx"]).status_code == 200
    # admins see and revoke everyone's
    admin = sign_in(app.test_client(), world["users"]["admin"])
    everyone = admin.get("/admin/tokens").get_data(as_text=True)
    assert CX in everyone and AM in everyone
    assert client.get("/admin/tokens").status_code == 404
    assert admin.post(f"/account/tokens/{others}/revoke").status_code == 302
    assert get(app, "/api/v1/accounts", world["tokens"]["cx"]).status_code == 401
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("api token%"))
        ).all()
    assert actions == ["api token created", "api token revoked", "api token revoked"]


# --- Scoping ---------------------------------------------------------------------------------


def test_an_account_managers_token_sees_only_their_accounts_everywhere(app, world):
    token = world["tokens"]["account_manager"]
    for url in (*LISTS, *SINGLE):
        response = get(app, url, token)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        assert "OTHER" not in text and "Other Account" not in text, url
        assert "Other Contact" not in text, url
    for url in LISTS:
        items = get(app, url, token).get_json()["items"]
        assert items, url
        assert {item.get("account_id", "OWN") for item in items} == {"OWN"}, url
        other = get(app, f"{url}?account=OTHER", token)
        if url not in ("/api/v1/accounts", "/api/v1/nps/accounts"):
            assert other.status_code == 200 and other.get_json()["items"] == [], url
    for url in (
        "/api/v1/accounts/OTHER",
        f"/api/v1/contacts/{world['other'].contact_ids[0]}",
        f"/api/v1/campaigns/{world['campaign_id']}",
        "/api/v1/campaigns",
        "/api/v1/accounts/NO-SUCH",
        "/api/v1/contacts/999999",
    ):
        response = get(app, url, token)
        assert response.status_code == 404 and response.is_json, url
    assert get(app, "/api/v1/accounts/OWN", token).get_json()["nps"]["n"] == 2
    contact = get(app, f"/api/v1/contacts/{world['own'].contact_ids[0]}", token).get_json()
    assert contact["name"] == "Own Contact" and contact["account_id"] == "OWN"
    assert get(app, "/api/v1/nps", token).get_json()["n"] == 2
    # CX sees both accounts, and the campaigns
    cx = world["tokens"]["cx"]
    assert len(get(app, "/api/v1/accounts", cx).get_json()["items"]) == 2
    assert get(app, "/api/v1/nps", cx).get_json()["n"] == 3
    campaign = get(app, f"/api/v1/campaigns/{world['campaign_id']}", cx).get_json()
    assert campaign["answered"] == 3 and campaign["kind"] == "nps"


def test_the_api_says_what_the_services_and_pages_say(app, world):
    """The rows come from the pages' scoped services, through one serialization layer."""
    token = world["tokens"]["account_manager"]
    with app.app_context():
        scope = Scope.of(db.session.scalar(sa.select(User).where(User.email == AM)))
        report = nps_report_row(nps_report(db.session, scope=scope, window_days=365))
        response_ids = sorted(
            row.response_id for row in db.session.execute(answers(AnswerFilters(scope=scope)))
        )
    rows = get(app, "/api/v1/nps/accounts", token).get_json()["items"]
    assert [{k: v for k, v in row.items() if k != "since"} for row in rows] == report["accounts"]
    overall = get(app, "/api/v1/nps", token).get_json()
    assert {k: overall[k] for k in report["overall"]} == report["overall"]
    listed = get(app, "/api/v1/answers", token).get_json()["items"]
    assert [item["response_id"] for item in listed] == response_ids
    assert {item["score"] for item in listed} == {3, 6}
    assert all(item["category"] == "detractor" for item in listed)
    page = sign_in(app.test_client(), world["users"]["account_manager"]).get("/accounts/OWN")
    assert f"{report['accounts'][0]['nps']:+.0f}".replace("+", "") in page.get_data(as_text=True)


# --- Pagination -------------------------------------------------------------------------------


def test_walking_the_pages_gives_every_item_once_also_while_rows_are_added(
    app, world, make_account
):
    for number in range(23):
        make_account(external_id=f"P-{number:02}", account_manager_email=AM)
    token = world["tokens"]["account_manager"]
    expected = {"OWN", *(f"P-{number:02}" for number in range(23))}
    items, pages = walk(app, "/api/v1/accounts?limit=5", token)
    assert [item["account_id"] for item in items] == sorted(
        (item["account_id"] for item in items), key=lambda x: (x != "OWN", x)
    )
    assert {item["account_id"] for item in items} == expected and len(items) == 24
    assert pages == 5
    first = get(app, "/api/v1/accounts", token).get_json()
    assert len(first["items"]) == 20 and first["limit"] == 20
    # rows added (and another manager's) in the middle of a walk: none twice, none missed
    seen, url, added = [], "/api/v1/accounts?limit=7&segment=", 0
    while url:
        body = get(app, url, token).get_json()
        seen.extend(item["account_id"] for item in body["items"])
        url = body["next"]
        if added < 3:
            make_account(external_id=f"NEW-{added}", account_manager_email=AM)
            make_account(external_id=f"ELSE-{added}", account_manager_email="x@y.example")
            added += 1
    assert len(seen) == len(set(seen))
    assert expected <= set(seen) and not any(name.startswith("ELSE") for name in seen)
    assert {"NEW-0", "NEW-1", "NEW-2"} <= set(seen)  # added after the key: still reached
    # the cursor keeps the filters and the limit
    page = get(app, "/api/v1/accounts?limit=3&segment=Retail", token).get_json()
    assert page["next"] is None and [i["account_id"] for i in page["items"]] == ["OWN"]
    page = get(app, "/api/v1/contacts?limit=1&role=decision_maker", token).get_json()
    query = parse_qs(urlsplit(page["next"]).query)
    assert query["limit"] == ["1"] and query["role"] == ["decision_maker"]
    rest, _ = walk(app, page["next"], token)
    # OWN's two contacts, one of each P- and NEW- account: every one once
    contact_ids = [item["contact_id"] for item in page["items"] + rest]
    assert len(contact_ids) == len(set(contact_ids)) == 2 + 23 + 3


def test_every_list_walks_page_by_page(app, world):
    token = world["tokens"]["admin"]
    for url in LISTS + ("/api/v1/campaigns",):
        whole = get(app, f"{url}?limit=100", token).get_json()
        assert whole["next"] is None, url
        items, pages = walk(app, f"{url}?limit=1", token)
        if url == "/api/v1/nps/accounts":  # the window ends when each walk began
            assert len({item.pop("since") for item in items}) == 1
            assert len({item.pop("since") for item in whole["items"]}) == 1
        assert items == whole["items"], url
        assert pages == max(1, len(items)), url
    verbatims, _ = walk(app, "/api/v1/reasons/verbatims?limit=2", token)
    times = [item["answered_at"] for item in verbatims]
    assert times == sorted(times, reverse=True) and len(verbatims) == 3


def test_answers_arriving_during_a_walk_are_neither_repeated_nor_lost(
    app, runner, world, smtp_sink
):
    token = world["tokens"]["admin"]
    answers_page = get(app, "/api/v1/answers?limit=1", token).get_json()
    verbatims_page = get(app, "/api/v1/reasons/verbatims?limit=1", token).get_json()
    smtp_sink.clear()
    send(runner, create_campaign(runner))
    client = app.test_client()
    for message in smtp_sink.messages:
        client.post(f"/r/{token_of(message)}", data={"score": "9", "comment": "Bra stöd"})
    rest, _ = walk(app, answers_page["next"], token)
    ids = [item["response_id"] for item in answers_page["items"] + rest]
    assert len(ids) == len(set(ids)) == 6  # oldest first: the new ones come at the end
    rest, _ = walk(app, verbatims_page["next"], token)
    ids = [item["response_id"] for item in verbatims_page["items"] + rest]
    assert len(ids) == len(set(ids)) == 3  # newest first: the new ones are before the cursor


# --- Hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=101", "limit"),
        ("limit=1e2", "limit"),
        ("limit=abc", "limit"),
        ("limit=", "limit"),
        ("limit=%20%205", "limit"),
        ("limit=5.0", "limit"),
        ("limit=99999999999999999999999999999999", "limit"),
        ("limit=%D9%A3", "limit"),  # ٣, ARABIC-INDIC DIGIT THREE
        ("limit=%EF%BC%91%EF%BC%90", "limit"),  # １０ in fullwidth digits
        ("limit=%E0%A5%AB", "limit"),  # ५, DEVANAGARI DIGIT FIVE
        ("limit=5%00", "limit"),
        ("limit=5&limit=6", "limit"),
        ("cursor=", "cursor"),
        ("cursor=abc", "cursor"),
        ("cursor=" + "A" * 5000, "cursor"),
        ("cursor=%00", "cursor"),
        ("cursor=%C3%A5", "cursor"),
        ("cursor=" + base64.urlsafe_b64encode(b"[1]").decode(), "cursor"),
        ("since=2026-13-01", "since"),
        ("since=0001-01-01", "since"),
        ("since=%D9%A2%D9%A0%D9%A2%D9%A6-01-01", "since"),
        ("since=2026-01-01T00:00", "since"),
        ("since=2026-03-01&until=2026-01-01", "until"),
        ("role=boss", "role"),
        ("language=de", "language"),
        ("kind=poll", "kind"),
        ("segment=a%0Ab", "segment"),
        ("segment=" + "s" * 201, "segment"),
        ("account=%E2%80%AE", "account"),
        ("campaign=-1", "campaign"),
        ("campaign=99999999999", "campaign"),
        ("campaign=%D9%A1", "campaign"),
    ],
)
def test_hostile_query_strings_are_400s_naming_the_parameter(app, world, query, parameter):
    response = get(app, f"/api/v1/answers?{query}", world["tokens"]["admin"])
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["parameter"] == parameter and error["code"] == "bad_request"
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/nps?window_days=0", "window_days"),
        ("/api/v1/nps?window_days=3651", "window_days"),
        ("/api/v1/nps/trend?period=week", "period"),
        ("/api/v1/nps/trend?by=planet", "by"),
        ("/api/v1/reasons?min_signals=7", "min_signals"),
        ("/api/v1/reasons/verbatims?reason=weather", "reason"),
        ("/api/v1/reasons/verbatims?source=gut", "source"),
        ("/api/v1/accounts?status=asleep", "status"),
        ("/api/v1/contacts?language=xx", "language"),
        ("/api/v1/campaigns?kind=x", "kind"),
    ],
)
def test_other_hostile_parameters(app, world, url, parameter):
    response = get(app, url, world["tokens"]["admin"])
    assert response.status_code == 400
    assert response.get_json()["error"]["parameter"] == parameter


def test_a_cursor_belongs_to_its_list(app, world):
    token = world["tokens"]["admin"]
    accounts = get(app, "/api/v1/accounts?limit=1", token).get_json()["next"]
    cursor = parse_qs(urlsplit(accounts).query)["cursor"][0]
    moved = get(app, f"/api/v1/contacts?cursor={cursor}", token)
    assert moved.status_code == 400 and moved.get_json()["error"]["parameter"] == "cursor"
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert get(app, f"/api/v1/accounts?cursor={tampered}", token).status_code == 400
    # a cursor made with another key (another installation) is refused too
    other = build_app(app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="another-secret")
    with other.test_request_context("/api/v1/accounts"):
        from surveys.api.pagination import encode_cursor

        foreign = encode_cursor("accounts", [1])
    assert get(app, f"/api/v1/accounts?cursor={foreign}", token).status_code == 400
    with app.test_request_context("/api/v1/accounts"):
        from surveys.api.pagination import encode_cursor

        huge = encode_cursor("accounts", [2**40])
        text = encode_cursor("accounts", ["1"])
        verbatim = encode_cursor("verbatims", ["not a time", 1, "2026-01-01T00:00:00+00:00"])
        naive = encode_cursor("verbatims", ["2026-01-01T00:00:00", 1, "2026-01-01T00:00:00"])
        short = encode_cursor("verbatims", ["2026-01-01T00:00:00+00:00", 1])
    for url in (
        f"/api/v1/accounts?cursor={huge}",
        f"/api/v1/accounts?cursor={text}",
        f"/api/v1/reasons/verbatims?cursor={verbatim}",
        f"/api/v1/reasons/verbatims?cursor={naive}",
        f"/api/v1/reasons/verbatims?cursor={short}",
    ):
        assert get(app, url, token).status_code == 400, url


# --- Limits and errors ------------------------------------------------------------------------


def test_over_the_rate_limit_a_token_gets_429_with_retry_after(database_url, make_user):
    app = build_app(database_url, API_RATE_LIMIT="3 per minute")
    make_user(CX, "cx")  # made in this app's database through the shared factory
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == CX))
        first = create_token(db.session, user, "a", utcnow())[1]
        second = create_token(db.session, user, "b", utcnow())[1]
        db.session.commit()
    for _ in range(3):
        assert get(app, "/api/v1/accounts", first).status_code == 200
    refused = get(app, "/api/v1/accounts", first)
    assert refused.status_code == 429 and refused.is_json
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 62
    assert get(app, "/api/v1/accounts", second).status_code == 200  # per token


def test_every_error_is_json_without_a_traceback(database_url, make_user, tmp_path):
    app = build_app(database_url, PROPAGATE_EXCEPTIONS=False, MAX_CONTENT_LENGTH=1000)
    make_user(CX, "cx")
    token = new_token(app, CX)
    client = app.test_client()
    cases = [
        (client.get("/api/v1/no-such-thing", headers=bearer(token)), 404),
        (client.get("/api/v1/", headers=bearer(token)), 404),
        (client.get("/api/v1/accounts/", headers=bearer(token)), 404),
        (client.post("/api/v1/accounts", headers=bearer(token)), 405),
        (client.delete("/api/v1/accounts", headers=bearer(token)), 405),
        (client.post("/api/v1/accounts", data={"x": "y" * 5000}, headers=bearer(token)), 413),
        (client.get("/api/v1/accounts?limit=%00", headers=bearer(token)), 400),
        (client.get("/api/v1/contacts/0", headers=bearer(token)), 404),
        (client.get("/api/v1/contacts/99999999999", headers=bearer(token)), 404),
        (client.get("/api/v1/accounts"), 401),
    ]
    with app.app_context():  # the database fails: a 500, told in JSON and logged
        db.session.execute(sa.text("ALTER TABLE responses RENAME TO gone_responses"))
        db.session.commit()
    try:
        cases.append((client.get("/api/v1/answers", headers=bearer(token)), 500))
    finally:
        with app.app_context():
            db.session.execute(sa.text("ALTER TABLE gone_responses RENAME TO responses"))
            db.session.commit()
    for response, status in cases:
        text = response.get_data(as_text=True)
        assert response.status_code == status, (status, text)
        assert response.is_json, text
        assert response.get_json()["error"]["status"] == status
        assert "Traceback" not in text and "<html" not in text.lower()
        assert response.headers["Cache-Control"] == "no-store"
    assert set(cases[3][0].headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_the_openapi_document_describes_every_api_endpoint(app, anonymous):
    response = anonymous.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    rules = {
        rule.rule.removeprefix("/api/v1").replace("<id:", "{").replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert rules == set(document["paths"])


# --- schemathesis against the running app -----------------------------------------------------


@pytest.fixture
def live_api(database_url, smtp_server):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = build_app(
        database_url,
        MAIL_PORT=smtp_server.port,
        SURVEYS_BASE_URL=base_url,
        PROPAGATE_EXCEPTIONS=False,
        API_RATE_LIMIT="100000 per minute",
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    access_log = logging.getLogger("werkzeug")
    level = access_log.level
    access_log.setLevel(logging.WARNING)  # thousands of requests
    thread.start()
    yield app, base_url
    server.shutdown()
    thread.join()
    access_log.setLevel(level)


def test_schemathesis_finds_nothing_against_the_running_app(live_api, tmp_path):
    app, base_url = live_api
    runner = app.test_cli_runner()
    with app.app_context():  # something for the links from lists to items to find
        account = Account(external_id="ST-1", name="Schemathesis AB", segment="Retail")
        account.contacts.append(Contact(email="st@example.com", name="S T", language="sv"))
        db.session.add(account)
        user = User(email=CX, role="cx", password_hash="x")
        db.session.add(user)
        db.session.flush()
        token = create_token(db.session, user, "schemathesis", utcnow())[1]
        db.session.commit()
    create_campaign(runner)
    started = time.monotonic()
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base_url}/api/v1/openapi.json",
        "--url",
        f"{base_url}/api/v1",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_headers_conformance,response_schema_conformance,ignored_auth,"
        "negative_data_rejection,unsupported_method",
        "--max-examples",
        os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"),
        "--seed",
        "10",
        "--workers",
        "1",
        "--no-color",
        "--suppress-health-check",
        "all",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    Path(os.environ.get("SCHEMATHESIS_REPORT", tmp_path / "report.txt")).write_text(output)
    assert result.returncode == 0, output[-6000:]
    print(f"schemathesis: {elapsed:.1f} s\n{output[-1500:]}")  # noqa: T201
