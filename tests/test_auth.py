"""Staff sign-in: passwords, sessions, limits, resets, two-factor codes, the users' pages
and the command line, with hostile input at every door."""

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import pyotp
import pytest
import sqlalchemy as sa

from config import ProductionConfig
from surveys import create_app
from surveys.auth.access import access_level
from surveys.auth.models import AuditEvent, PasswordReset, User
from surveys.auth.tokens import create_token
from surveys.columns import utcnow
from surveys.delivery.queue import wait_for_background
from surveys.extensions import db
from tests.conftest import PASSWORD, build_app, sign_in
from tests.helpers import create_campaign, send, text_part, token_of

CX = "cx@supplier.example"


def log_in(client, email=CX, password=PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def audit_actions(app):
    with app.app_context():
        return [
            (event.action, event.actor)
            for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_signing_in_and_out(app, anonymous, make_user):
    make_user(CX, "cx")
    assert anonymous.get("/accounts/").headers["Location"] == "/login?next=/accounts/"
    response = anonymous.post(
        "/login?next=/reasons/", data={"email": " CX@Supplier.example ", "password": PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/reasons/"
    assert anonymous.get("/accounts/").status_code == 200
    assert CX in anonymous.get("/accounts/").get_data(as_text=True)
    assert anonymous.get("/logout").status_code == 405  # signing out is a POST
    anonymous.post("/logout")
    assert anonymous.get("/accounts/").status_code == 302
    assert audit_actions(app)[0] == ("login", CX)
    with app.app_context():
        assert db.session.scalar(sa.select(User.last_login_at)) is not None


def test_a_wrong_address_and_a_wrong_password_get_the_same_answer(app, anonymous, make_user):
    make_user(CX, "cx")
    make_user("gone@supplier.example", "cx", active=False)
    answers = [
        log_in(anonymous, password="wrong password!"),
        log_in(anonymous, email="nobody@supplier.example"),
        log_in(anonymous, email="gone@supplier.example"),
        log_in(anonymous, email="not an address\r\nBcc: x@y"),
    ]
    assert {response.status_code for response in answers} == {401}
    texts = [re.sub(r'name="csrf_token"[^>]*', "", r.get_data(as_text=True)) for r in answers]
    for text in texts:
        assert "The e-mail address or the password is wrong." in text
    assert anonymous.get("/accounts/").status_code == 302
    assert [action for action, _ in audit_actions(app)] == ["login failed"] * 4
    assert ("login failed", "nobody@supplier.example") in audit_actions(app)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x",
        "\x00/accounts/",
        "x" * 3000,
    ],
)
def test_next_goes_only_to_this_site(anonymous, make_user, target):
    make_user(CX, "cx")
    response = anonymous.post(
        "/login", query_string={"next": target}, data={"email": CX, "password": PASSWORD}
    )
    if response.status_code == 400:  # a NUL in the query string is refused outright
        assert "\x00" in target
        return
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "/%0d%0aSet-Cookie:x")
    assert "evil" not in response.headers["Location"]


def test_hostile_sign_in_forms_are_clear_400s(anonymous, make_user):
    make_user(CX, "cx")
    for data in ({}, {"email": CX}, {"password": PASSWORD}, {"email": "", "password": ""}):
        response = anonymous.post("/login", data=data)
        assert response.status_code == 400, data
    response = anonymous.post("/login", data={"email": CX, "password": "a\x00b"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    huge = anonymous.post("/login", data={"email": CX, "password": "p" * 100_000})
    assert huge.status_code == 401


def test_too_many_failures_for_one_account_are_refused_even_with_the_right_password(
    anonymous, make_user
):
    make_user(CX, "cx")
    for _ in range(5):
        assert log_in(anonymous, password="wrong password!").status_code == 401
    refused = log_in(anonymous)
    assert refused.status_code == 429
    assert "Too many failed sign-ins for this account" in refused.get_data(as_text=True)
    # another account from the same address is not held back
    make_user("other@supplier.example", "cx")
    assert log_in(anonymous, email="other@supplier.example").status_code == 302


def test_too_many_attempts_from_one_address_are_refused(database_url, make_user):
    app = build_app(database_url, LOGIN_LIMIT_PER_ADDRESS="3 per minute")
    client = app.test_client()
    for number in range(3):
        assert log_in(client, email=f"x{number}@supplier.example").status_code == 401
    assert log_in(client, email="x9@supplier.example").status_code == 429


def test_the_limit_holds_across_processes_on_redis(database_url, make_user):
    """Two apps (two gunicorn workers, say) count one account's failures together."""
    from kombu import Connection

    try:
        with Connection("redis://127.0.0.1:6379/0", connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception:
        pytest.skip("no Redis at 127.0.0.1:6379")
    # an account of its own: Redis outlives the test, and other runs count their own
    email = f"cx-{uuid.uuid4().hex[:8]}@supplier.example"
    make_user(email, "cx")
    settings = {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
    }
    first, second = build_app(database_url, **settings), build_app(database_url, **settings)
    for _ in range(3):
        assert log_in(first.test_client(), email, "wrong password!").status_code == 401
    for _ in range(2):
        assert log_in(second.test_client(), email, "wrong password!").status_code == 401
    assert log_in(first.test_client(), email).status_code == 429


def test_remember_me_lasts_at_most_fourteen_days(anonymous, make_user):
    make_user(CX, "cx")
    response = log_in(anonymous, remember="y")
    cookies = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        cookies.load(header)
    remember = cookies["remember_token"]
    expires = datetime.strptime(remember["expires"], "%a, %d %b %Y %H:%M:%S GMT").replace(
        tzinfo=UTC
    )
    assert expires - datetime.now(UTC) <= timedelta(days=14, minutes=1)
    assert remember["httponly"] and remember["samesite"] == "Lax"


def test_a_password_change_signs_out_every_other_session(app, make_user):
    make_user(CX, "cx")
    here, elsewhere = app.test_client(), app.test_client()
    log_in(here)
    log_in(elsewhere, remember="y")
    response = here.post(
        "/account",
        data={
            "current": PASSWORD,
            "password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 302
    assert here.get("/accounts/").status_code == 200  # this session goes on
    elsewhere.delete_cookie("session")  # even the remember-me cookie no longer works
    assert elsewhere.get("/accounts/").status_code == 302
    wrong = here.post(
        "/account", data={"current": "nope", "password": "x" * 12, "confirm": "x" * 12}
    )
    assert "That is not your current password." in wrong.get_data(as_text=True)
    assert ("password changed", CX) in audit_actions(app)


def test_deactivating_ends_the_sessions(app, runner, make_user):
    make_user(CX, "cx")
    client = app.test_client()
    log_in(client)
    assert client.get("/accounts/").status_code == 200
    result = runner.invoke(args=["users", "deactivate", CX])
    assert result.exit_code == 0, result.output
    assert client.get("/accounts/").status_code == 302
    assert log_in(app.test_client()).status_code == 401


def reset_link(smtp_sink):
    [message] = smtp_sink.messages
    return re.search(r"http://surveys\.test(/password/reset/[A-Za-z0-9_-]+)", text_part(message))


def test_a_forgotten_password_is_reset_once_through_the_e_mailed_link(
    app, anonymous, make_user, smtp_sink
):
    make_user(CX, "cx")
    signed_in_elsewhere = app.test_client()
    log_in(signed_in_elsewhere)
    unknown = anonymous.post(
        "/password/forgot", data={"email": "nobody@x.example"}, follow_redirects=True
    )
    known = anonymous.post("/password/forgot", data={"email": CX}, follow_redirects=True)
    message = "If a user has that address, a link to choose a new password is on its way."
    assert message in unknown.get_data(as_text=True) and message in known.get_data(as_text=True)
    wait_for_background()
    link = reset_link(smtp_sink).group(1)
    assert smtp_sink.messages[0]["To"].addresses[0].addr_spec == CX
    with app.app_context():  # only the hash is kept
        assert link.rsplit("/", 1)[1] not in str(db.session.execute(sa.select(PasswordReset)).all())
    assert anonymous.get(link).status_code == 200
    short = anonymous.post(link, data={"password": "short", "confirm": "short"})
    assert short.status_code == 400
    done = anonymous.post(
        link, data={"password": "brand new password", "confirm": "brand new password"}
    )
    assert done.status_code == 302
    assert anonymous.get(link).status_code == 404  # single use
    assert log_in(anonymous).status_code == 401
    assert log_in(app.test_client(), password="brand new password").status_code == 302
    assert signed_in_elsewhere.get("/accounts/").status_code == 302
    assert ("password reset", CX) in audit_actions(app)


def test_a_reset_link_dies_after_an_hour(app, anonymous, make_user, smtp_sink):
    make_user(CX, "cx")
    anonymous.post("/password/forgot", data={"email": CX})
    wait_for_background()
    link = reset_link(smtp_sink).group(1)
    with app.app_context():
        db.session.execute(
            sa.update(PasswordReset).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
    assert anonymous.get(link).status_code == 404
    for token in ("x", "A" * 43, "A" * 5000):
        assert anonymous.get(f"/password/reset/{token}").status_code == 404


def current_code(secret, offset=0):
    return pyotp.TOTP(secret).at(time.time() + offset)


def test_two_factor_sign_in(app, anonymous, make_user):
    make_user(CX, "cx")
    log_in(anonymous)
    page = anonymous.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    assert "<svg" in page
    wrong = anonymous.post("/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 400
    assert (
        anonymous.post("/account/two-factor", data={"code": current_code(secret)}).status_code
        == 302
    )
    anonymous.post("/logout")
    first = log_in(anonymous)
    assert first.headers["Location"] == "/login/code"
    assert anonymous.get("/accounts/").status_code == 302  # not signed in yet
    used = current_code(secret)  # the enrolment's code: no second use
    assert anonymous.post("/login/code", data={"code": used}).status_code == 401
    for bad in ("１２３４５６", "abcdef", "1" * 10_000):  # five failures would be the limit
        assert anonymous.post("/login/code", data={"code": bad}).status_code == 401
    assert anonymous.post("/login/code", data={"code": current_code(secret, 30)}).status_code == 302
    assert anonymous.get("/accounts/").status_code == 200
    assert ("two-factor turned on", CX) in audit_actions(app)


def test_admins_must_enrol_in_production(database_url, make_user):
    admin = make_user("admin@supplier.example", "admin")
    cx = make_user(CX, "cx")

    class Config(ProductionConfig):
        SECRET_KEY = "k" * 40
        SQLALCHEMY_DATABASE_URI = database_url
        TRUSTED_HOSTS = None

    app = create_app(Config)
    client = sign_in(app.test_client(), admin)
    response = client.get("/accounts/", base_url="https://localhost")
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    assert client.get("/account/two-factor", base_url="https://localhost").status_code == 200
    assert (
        sign_in(app.test_client(), cx).get("/accounts/", base_url="https://localhost").status_code
        == 200
    )


def test_every_staff_form_needs_its_token(database_url, make_user):
    user = make_user(CX, "cx")
    app = build_app(database_url, WTF_CSRF_ENABLED=True)
    assert log_in(app.test_client()).status_code == 400
    client = sign_in(app.test_client(), user)
    assert client.post("/logout").status_code == 400
    assert client.get("/accounts/").status_code == 200  # still signed in


def test_the_command_line_manages_users(app, runner):
    created = runner.invoke(
        args=["users", "create", "--email", "Anna@Supplier.example", "--role", "account_manager"]
    )
    assert created.exit_code == 0, created.output
    password = re.search(r"Password \(shown once\): (\S+)", created.output).group(1)
    assert len(password) >= 20
    assert log_in(app.test_client(), "anna@supplier.example", password).status_code == 302
    stdin = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "bo@supplier.example",
            "--role",
            "cx",
            "--password-stdin",
        ],
        input="a good long password\n",
    )
    assert stdin.exit_code == 0 and "shown once" not in stdin.output
    listing = runner.invoke(args=["users", "list"]).output
    assert "anna@supplier.example\taccount_manager\tactive\tno-2fa\t" in listing
    assert runner.invoke(args=["users", "set-role", "anna@supplier.example", "cx"]).exit_code == 0
    changed = runner.invoke(
        args=["users", "set-password", "bo@supplier.example", "--password-stdin"],
        input="another long password\n",
    )
    assert changed.exit_code == 0
    assert (
        log_in(app.test_client(), "bo@supplier.example", "another long password").status_code == 302
    )
    for args, message in [
        (["create", "--email", "anna@supplier.example", "--role", "cx"], "already a user"),
        (["create", "--email", "x@y\r\nBcc: z@w", "--role", "cx"], "control character"),
        (["create", "--email", "not-an-address", "--role", "cx"], "not a valid e-mail address"),
        (["create", "--email", "c@supplier.example", "--role", "boss"], "'boss' is not one of"),
        (["set-role", "nobody@supplier.example", "cx"], "there is no user"),
        (["deactivate", "nobody@supplier.example"], "there is no user"),
    ]:
        result = runner.invoke(args=["users", *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    short = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "d@supplier.example",
            "--role",
            "cx",
            "--password-stdin",
        ],
        input="short\n",
    )
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    empty = runner.invoke(
        args=["users", "set-password", "bo@supplier.example", "--password-stdin"], input=""
    )
    assert empty.exit_code != 0 and "no password" in empty.output
    actions = [action for action, _ in audit_actions(app)]
    assert actions.count("user created") == 2 and "role changed" in actions


def test_admins_manage_users_on_a_page(app, client, make_user):
    make_user(CX, "cx")
    page = client.post(
        "/admin/users", data={"email": "new@supplier.example", "role": "account_manager"}
    )
    assert page.status_code == 200
    shown = re.search(r'<code class="secret">([^<]+)</code>', page.get_data(as_text=True)).group(1)
    assert log_in(app.test_client(), "new@supplier.example", shown).status_code == 302
    assert "Set-Cookie" not in page.headers or shown not in page.headers["Set-Cookie"]
    bad = client.post("/admin/users", data={"email": "new@supplier.example", "role": "cx"})
    assert bad.status_code == 400 and "already a user" in bad.get_data(as_text=True)
    with app.app_context():
        new_id = db.session.scalar(sa.select(User.id).where(User.email == "new@supplier.example"))
        admin_id = db.session.scalar(sa.select(User.id).where(User.role == "admin"))
    client.post(f"/admin/users/{new_id}/role", data={"role": "cx"})
    client.post(f"/admin/users/{admin_id}/role", data={"role": "cx"})  # not one's own
    client.post(f"/admin/users/{new_id}/deactivate")
    with app.app_context():
        assert db.session.get(User, new_id).role == "cx"
        assert not db.session.get(User, new_id).active
        assert db.session.get(User, admin_id).role == "admin"
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert "role changed" in audit_page and "user deactivated" in audit_page
    assert client.get("/admin/audit?page=abc").status_code == 200
    assert client.post("/admin/users/99999/deactivate").status_code == 404
    # nobody else reaches these pages, and they do not learn they exist
    cx_client = sign_in(app.test_client(), make_user("cx2@supplier.example", "cx"))
    assert cx_client.get("/admin/users").status_code == 404
    assert cx_client.get("/admin/audit").status_code == 404


# --- The role matrix: every endpoint, as every role, on its own and another's account ------

# Every endpoint and who may reach it. A new endpoint fails this test until it is added
# here, on purpose, with its level.
EXPECTED_LEVELS = {
    "static": "public",
    "respond.answer": "public",
    "respond.submit": "public",
    "respond.thanks": "public",
    "respond.unsubscribe_page": "public",
    "respond.unsubscribe_confirmed": "public",
    "auth.login": "public",
    "auth.login_code": "public",
    "auth.forgot_password": "public",
    "auth.reset_password": "public",
    "index": "staff",
    "auth.logout": "staff",
    "auth.account": "staff",
    "auth.two_factor": "staff",
    "accounts.index": "staff",
    "accounts.detail": "staff",
    "accounts.export_contact_data": "staff",
    "accounts.erase_contact_data": "cx",
    "accounts.import_contacts": "cx",
    "reasons.index": "staff",
    "reports.trend": "staff",
    "reports.index": "staff",
    "reports.committee": "staff",
    "reports.foresight_page": "staff",
    "reports.reasons_page": "staff",
    "reports.response_rates_page": "staff",
    "reasons.verbatim_list": "staff",
    "reasons.account": "staff",
    "reports.retention": "staff",
    "exports.download": "staff",
    "campaigns.index": "cx",
    "campaigns.create": "cx",
    "campaigns.show": "cx",
    "campaigns.send": "cx",
    "campaigns.retry_failed": "cx",
    "campaigns.retry_unknown": "cx",
    "campaigns.preview": "cx",
    "campaigns.send_test": "cx",
    "campaigns.status_json": "cx",
    "auth.users": "admin",
    "auth.create_user_page": "admin",
    "auth.change_role": "admin",
    "auth.deactivate_user": "admin",
    "auth.send_reset": "admin",
    "auth.audit_log": "admin",
    "webhooks.index": "admin",
    "webhooks.add": "admin",
    "webhooks.deactivate": "admin",
    "accounts.mine": "staff",
    "accounts.contacted_today": "staff",
    "followups.index": "staff",
    "followups.show": "staff",
    "followups.mark_contacted": "staff",
    "followups.resolve": "staff",
    "followups.times": "staff",
    "auth.tokens": "staff",
    "auth.create_token_page": "staff",
    "auth.revoke_token_page": "staff",
    "auth.all_tokens": "admin",
    "api.openapi": "public",
    "api.accounts": "staff",
    "api.account": "staff",
    "api.contacts": "staff",
    "api.contact": "staff",
    "api.answers": "staff",
    "api.nps": "staff",
    "api.nps_accounts": "staff",
    "api.trend": "staff",
    "api.reasons": "staff",
    "api.reasons_accounts": "staff",
    "api.reasons_verbatims": "staff",
    "api.campaigns": "cx",
    "api.campaign": "cx",
}
# Endpoints only the development settings have.
DEVELOPMENT_ONLY = {"outbox.index": "cx", "outbox.show": "cx", "outbox.html": "cx"}
AM = "am@supplier.example"


@pytest.fixture
def world(app, runner, make_account, make_user, smtp_sink):
    """Two accounts, one the account manager's, each with an answered contact; a user of
    each role; a campaign."""
    own = make_account(
        {"language": "sv", "name": "Own Contact"},
        external_id="OWN",
        name="Own Account AB",
        account_manager_email=AM,
    )
    other = make_account(
        {"language": "sv", "name": "Other Contact"},
        external_id="OTHER",
        name="Other Account AB",
        account_manager_email="someone.else@supplier.example",
    )
    campaign_id = create_campaign(runner)
    send(runner, campaign_id)
    client = app.test_client()
    for message in smtp_sink.messages:
        client.post(f"/r/{token_of(message)}", data={"score": "3", "comment": "För dyrt"})
    users = {
        "admin": make_user("admin@supplier.example", "admin"),
        "cx": make_user(CX, "cx"),
        "account_manager": make_user(AM, "account_manager"),
    }
    spare = make_user("spare@supplier.example", "cx")
    added = runner.invoke(
        args=["webhooks", "add", "https://crm.example.com/h", "--events", "answer.created"]
    )
    assert added.exit_code == 0, added.output
    with app.app_context():
        from surveys.followups.models import FollowUp

        follow_ups = dict(db.session.execute(sa.select(FollowUp.account_id, FollowUp.id)).all())
    # Each role's API token, and a token of each role (and of the spare user) for the
    # token pages to revoke, so that revoking one never closes the API to the matrix.
    with app.app_context():
        api_tokens, page_tokens = {}, {}
        for role, user_id in users.items():
            user = db.session.get(User, user_id)
            api_tokens[role] = create_token(db.session, user, "matrix", utcnow())[1]
            page_tokens[role] = create_token(db.session, user, "revoked", utcnow())[0].id
        spare_token = create_token(db.session, db.session.get(User, spare), "x", utcnow())[0].id
        db.session.commit()
    return {
        "follow_ups": {"own": follow_ups[own.account_id], "other": follow_ups[other.account_id]},
        "own": own,
        "other": other,
        "users": users,
        "campaign_id": campaign_id,
        "token": token_of(smtp_sink.messages[0]),
        "spare": spare,
        "api_tokens": api_tokens,
        "page_tokens": page_tokens,
        "spare_token": spare_token,
    }


def url_for_rule(rule, world, which, role="anonymous"):
    """The rule's URL with an argument of ``which`` account ("own" or "other"); a token id
    is ``role``'s own ("own") or another user's ("other")."""
    made = world[which]
    own_token = world["page_tokens"].get(role, world["spare_token"])
    values = {
        "token_id": own_token if which == "own" else world["spare_token"],
        "external_id": made.external_id,
        "contact_id": made.contact_ids[0],
        "campaign_id": world["campaign_id"],
        "user_id": world["spare"],
        "webhook_id": 1,
        "follow_up_id": world["follow_ups"][which],
        "token": world["token"],
        "language": "sv",
        "key": "nope",
        "filename": "staff.css",
        "name": "answers",
        "file_format": "csv",
    }
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def request_as(app, role, world, method, url):
    client = app.test_client()
    if url.startswith("/api/"):  # bearer tokens only: a session would be ignored
        headers = {}
        if role != "anonymous":
            headers["Authorization"] = f"Bearer {world['api_tokens'][role]}"
        return client.open(url, method=method, headers=headers)
    if role != "anonymous":
        sign_in(client, world["users"][role])
    return client.open(url, method=method)


def test_every_endpoint_is_classified(app):
    levels = {rule.endpoint: access_level(app, rule.endpoint) for rule in app.url_map.iter_rules()}
    assert levels == EXPECTED_LEVELS


def test_development_only_endpoints_are_classified(database_url, tmp_path):
    app = build_app(database_url, OUTBOX_DIR=str(tmp_path / "outbox"))
    levels = {rule.endpoint: access_level(app, rule.endpoint) for rule in app.url_map.iter_rules()}
    assert levels == {**EXPECTED_LEVELS, **DEVELOPMENT_ONLY}


def test_the_role_matrix(app, world):
    """Every endpoint, as each role, with its own account's ids and another's: who is sent
    to sign in, who gets 404 and who reaches it."""
    roles = ("anonymous", "account_manager", "cx", "admin")
    checked = 0
    for rule in app.url_map.iter_rules():
        level = EXPECTED_LEVELS[rule.endpoint]
        if rule.endpoint == "auth.logout":
            continue  # signs the client out: its level is checked above
        api = rule.endpoint.startswith("api.")
        for method in sorted(rule.methods & {"GET", "POST"}):
            for which in ("own", "other"):
                for role in roles:
                    url = url_for_rule(rule, world, which, role)
                    response = request_as(app, role, world, method, url)
                    status = response.status_code
                    where = (rule.endpoint, method, which, role, url, status)
                    checked += 1
                    if api:  # JSON, whoever asks, however it ends
                        assert response.is_json, where
                        assert "Location" not in response.headers, where
                    if level == "public":
                        assert status not in (401,) and "/login?next" not in response.headers.get(
                            "Location", ""
                        ), where
                        continue
                    if api and role == "anonymous":
                        assert status == 401, where
                        assert response.headers["WWW-Authenticate"].startswith("Bearer"), where
                        continue
                    if role == "anonymous":
                        if method == "GET":
                            assert status == 302, where
                            assert response.headers["Location"].startswith("/login"), where
                        else:
                            assert status in (400, 401), where  # no session, no CSRF: never in
                        continue
                    allowed = (
                        role
                        in {
                            "staff": ("account_manager", "cx", "admin"),
                            "cx": ("cx", "admin"),
                            "admin": ("admin",),
                        }[level]
                    )
                    if not allowed:
                        assert status == 404, where
                        continue
                    uses_an_account = any(
                        name in rule.rule for name in ("external_id", "contact_id", "follow_up_id")
                    )
                    if role == "account_manager" and which == "other" and uses_an_account:
                        assert status == 404, where
                    elif "token_id" in rule.rule and which == "other" and role != "admin":
                        assert status == 404, where  # another user's token
                    else:
                        assert status not in (401, 403, 404, 500), where
    assert checked > 400


def test_an_account_manager_sees_only_their_accounts_everywhere(app, world):
    client = sign_in(app.test_client(), world["users"]["account_manager"])
    for path in (
        "/accounts/",
        "/reasons/",
        "/reasons/verbatims",
        "/reasons/verbatims?source=stated",
        "/exports/answers.csv",
        "/exports/nps.csv",
        "/exports/reasons.csv",
    ):
        page = client.get(path).get_data(as_text=True)
        assert "Own Account AB" in page, path
        assert "Other Account AB" not in page and "Other Contact" not in page, path
    export = client.post(f"/accounts/contacts/{world['own'].contact_ids[0]}/export")
    assert export.status_code == 200 and "Other Account" not in export.get_data(as_text=True)
