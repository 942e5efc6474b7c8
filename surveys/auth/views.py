"""Signing in and out, two-factor codes, password resets, one's own settings, and the
admins' pages for users and the audit log."""

import io
import time
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from surveys.auth.access import ADMIN, PUBLIC, STAFF, access, blueprint_access
from surveys.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    ForgotForm,
    LoginForm,
    NewUserForm,
    ResetForm,
    RoleForm,
    TokenForm,
    TurnOffTwoFactorForm,
    TwoFactorForm,
)
from surveys.auth.mail import queue_password_reset
from surveys.auth.models import ApiToken, AuditEvent, User
from surveys.auth.services import (
    UserError,
    audit,
    authenticate,
    create_user,
    deactivate,
    disable_totp,
    enable_totp,
    find_reset,
    finish_password_reset,
    new_totp_secret,
    normalise_email,
    set_password,
    set_role,
    totp_uri,
    verify_totp,
)
from surveys.auth.tokens import TokenError, create_token, revoke_token, tokens_of
from surveys.columns import utcnow
from surveys.delivery.queue import BrokerUnavailableError, kick
from surveys.extensions import db, limiter

blueprint = blueprint_access(Blueprint("auth", __name__), STAFF)

WRONG = "The e-mail address or the password is wrong."
# How long the second step of a sign-in may wait for its code.
PENDING_LOGIN_SECONDS = 300
AUDIT_PAGE_SIZE = 100


def _client_address() -> str:
    return request.remote_addr or ""


def _typed_account() -> str:
    """The rate limit's key for "per account": the address typed, as it would be stored."""
    typed = request.form.get("email", "")
    try:
        return "account:" + normalise_email(typed)
    except UserError:
        return "account:" + typed.strip().lower()[:254]


def _login_failed(response: Response) -> bool:
    return response.status_code == 401


def safe_next(target: str | None) -> str | None:
    """``next=`` only to a path of this site: no scheme, no host, no ``//`` or ``\\``."""
    if not target or len(target) > 2000:
        return None
    if any(ord(character) < 32 for character in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _finish_login(user: User, remember: bool, target: str | None) -> Response:
    session.clear()  # nothing from before the sign-in carries over
    login_user(user, remember=remember, duration=current_app.config["REMEMBER_COOKIE_DURATION"])
    now = utcnow()
    user.last_login_at = now
    audit(db.session, "login", now=now, user=user, address=_client_address())
    db.session.commit()
    return redirect(target or url_for("index"))


@blueprint.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    error_message="Too many sign-in attempts from your address; wait a minute and try again.",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_typed_account,
    methods=["POST"],
    deduct_when=_login_failed,
    error_message="Too many failed sign-ins for this account; wait 15 minutes and try again.",
)
def login() -> Response | tuple[str, int]:
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            audit(
                db.session,
                "login failed",
                now=utcnow(),
                actor=form.email.data.strip()[:254] or "(empty)",
                address=_client_address(),
            )
            db.session.commit()
            form.form_errors.append(WRONG)
            status = 401
        elif user.totp_enabled_at is not None:
            session["pending_login"] = {
                "user": user.get_id(),
                "remember": bool(form.remember.data),
                "next": target,
                "since": time.time(),
            }
            return redirect(url_for(".login_code"))
        else:
            return _finish_login(user, bool(form.remember.data), target)
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


def _pending_user() -> tuple[User, dict] | None:
    pending = session.get("pending_login")
    if not isinstance(pending, dict) or time.time() - pending.get("since", 0) > (
        PENDING_LOGIN_SECONDS
    ):
        return None
    user_id, _, version = str(pending.get("user", "")).partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user, pending


def _pending_account() -> str:
    pending = session.get("pending_login")
    return f"account-code:{pending.get('user') if isinstance(pending, dict) else ''}"


@blueprint.route("/login/code", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_pending_account,
    methods=["POST"],
    deduct_when=_login_failed,
    error_message="Too many wrong codes; wait 15 minutes and sign in again.",
)
def login_code() -> Response | tuple[str, int]:
    found = _pending_user()
    if found is None:
        session.pop("pending_login", None)
        flash("Sign in again: the second step waited too long.", "error")
        return redirect(url_for(".login"))
    user, pending = found
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if verify_totp(db.session, user, form.code.data, utcnow()):
            return _finish_login(user, pending["remember"], pending["next"])
        audit(
            db.session,
            "login failed",
            now=utcnow(),
            user=user,
            detail="wrong code",
            address=_client_address(),
        )
        db.session.commit()
        form.code.errors = ["That code is not the one your app shows now."]
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("auth/code.html", form=form), status


@blueprint.post("/logout")
def logout() -> Response:
    if ConfirmForm().validate_on_submit():
        logout_user()
        session.clear()
    return redirect(url_for(".login"))


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def forgot_password() -> Response | tuple[str, int]:
    form = ForgotForm()
    if form.validate_on_submit():
        reset = queue_password_reset(db.session, form.email.data, current_app.config, utcnow())
        if reset is not None:
            audit(
                db.session,
                "password reset asked",
                now=utcnow(),
                user=reset.user,
                address=_client_address(),
            )
        db.session.commit()
        if reset is not None:
            try:
                kick(in_background=True)
            except BrokerUnavailableError:
                pass  # the e-mail is a row: the next tick sends it
        # the same answer whether or not the address has an account
        flash(
            "If a user has that address, a link to choose a new password is on its way. "
            "It works once, for one hour.",
            "success",
        )
        return redirect(url_for(".login"))
    return render_template("auth/forgot.html", form=form), 400 if form.is_submitted() else 200


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
@access(PUBLIC)
def reset_password(token: str) -> Response | tuple[str, int]:
    reset = find_reset(db.session, token, utcnow())
    if reset is None:
        return render_template("auth/reset_gone.html"), 404
    form = ResetForm()
    if form.validate_on_submit():
        try:
            user = finish_password_reset(db.session, reset, form.password.data, utcnow())
        except UserError as error:
            form.password.errors = [str(error)]
        else:
            audit(db.session, "password reset", now=utcnow(), user=user, address=_client_address())
            db.session.commit()
            logout_user()
            flash("Your password is changed. Sign in with it.", "success")
            return redirect(url_for(".login"))
    return render_template("auth/reset.html", form=form), 400 if form.is_submitted() else 200


@blueprint.route("/account", methods=["GET", "POST"])
def account() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = authenticate(db.session, current_user.email, form.current.data)
        if user is None:
            form.current.errors = ["That is not your current password."]
        else:
            try:
                set_password(db.session, user, form.password.data)
            except UserError as error:
                form.password.errors = [str(error)]
            else:
                audit(
                    db.session,
                    "password changed",
                    now=utcnow(),
                    user=user,
                    address=_client_address(),
                )
                db.session.commit()
                # every other session ended with the old password; this one goes on
                login_user(user)
                flash("Password changed; you are signed out everywhere else.", "success")
                return redirect(url_for(".account"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/account.html", form=form), status


def _qr_svg(text: str) -> Markup:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return Markup(svg[svg.index("<svg") :])


@blueprint.route("/account/two-factor", methods=["GET", "POST"])
def two_factor() -> Response | tuple[str, int]:
    user = db.session.get(User, current_user.id)
    if user.totp_enabled_at is not None:
        form = TurnOffTwoFactorForm()
        if form.validate_on_submit():
            if current_app.config["REQUIRE_ADMIN_2FA"] and user.role == "admin":
                flash("Admins must keep two-factor sign-in here.", "error")
            elif authenticate(db.session, user.email, form.password.data) is None:
                form.password.errors = ["That is not your password."]
            else:
                disable_totp(db.session, user)
                audit(db.session, "two-factor turned off", now=utcnow(), user=user)
                db.session.commit()
                flash("Two-factor sign-in is off.", "success")
                return redirect(url_for(".account"))
        return render_template("auth/two_factor_on.html", form=form)
    secret = session.get("totp_setup") or new_totp_secret()
    session["totp_setup"] = secret
    form = TwoFactorForm()
    status = 200
    if form.validate_on_submit():
        try:
            enable_totp(db.session, user, secret, form.code.data, utcnow())
        except UserError as error:
            form.code.errors = [str(error)]
            status = 400
        else:
            session.pop("totp_setup", None)
            audit(db.session, "two-factor turned on", now=utcnow(), user=user)
            db.session.commit()
            flash("Two-factor sign-in is on: you will be asked for a code each time.", "success")
            return redirect(url_for(".account"))
    uri = totp_uri(user, secret)
    return (
        render_template("auth/two_factor.html", form=form, secret=secret, qr=_qr_svg(uri)),
        status,
    )


# --- API tokens ----------------------------------------------------------------------------


def _tokens_page(form: TokenForm, status: int = 200, created: tuple | None = None):
    user = db.session.get(User, current_user.id)
    return (
        render_template(
            "auth/tokens.html",
            tokens=tokens_of(db.session, user),
            form=form,
            confirm_form=ConfirmForm(),
            created=created,
            everyone=False,
        ),
        status,
    )


@blueprint.get("/account/tokens")
def tokens() -> tuple[str, int]:
    return _tokens_page(TokenForm(formdata=None))


@blueprint.post("/account/tokens")
def create_token_page() -> tuple[str, int]:
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, 400)
    user = db.session.get(User, current_user.id)
    try:
        row, token = create_token(db.session, user, form.name.data, utcnow())
    except TokenError as error:
        form.name.errors = [str(error)]
        return _tokens_page(form, 400)
    audit(
        db.session,
        "api token created",
        now=utcnow(),
        user=user,
        target=f"api token {row.id} of user {user.id}",
        detail=row.name,
        address=_client_address(),
    )
    db.session.commit()
    # Shown once, on this page only: never in a flash message, which travels in a cookie.
    return _tokens_page(TokenForm(formdata=None), 200, created=(row.name, token))


@blueprint.post("/account/tokens/<id:token_id>/revoke")
def revoke_token_page(token_id: int) -> Response:
    """A user revokes their own tokens; an admin anyone's. Anyone else's is not found."""
    row = db.session.get(ApiToken, token_id)
    if row is None or (row.user_id != current_user.id and current_user.role != "admin"):
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400, "The form expired; go back and try again.")
    if revoke_token(db.session, row, utcnow()):
        audit(
            db.session,
            "api token revoked",
            now=utcnow(),
            user=current_user,
            target=f"api token {row.id} of user {row.user_id}",
            detail=row.name,
            address=_client_address(),
        )
        db.session.commit()
        flash(f"The token {row.name!r} is revoked: it opens nothing from now on.", "success")
    mine = row.user_id == current_user.id
    return redirect(url_for(".tokens" if mine else ".all_tokens"))


@blueprint.get("/admin/tokens")
@access(ADMIN)
def all_tokens() -> str:
    return render_template(
        "auth/tokens.html",
        tokens=tokens_of(db.session),
        form=None,
        confirm_form=ConfirmForm(),
        created=None,
        everyone=True,
    )


# --- The admins' pages ---------------------------------------------------------------------


def _users_page(form: NewUserForm, status: int = 200, created: tuple | None = None):
    users = db.session.scalars(sa.select(User).order_by(User.active.desc(), User.email)).all()
    return (
        render_template(
            "auth/users.html",
            users=users,
            form=form,
            role_form=RoleForm(),
            confirm_form=ConfirmForm(),
            created=created,
        ),
        status,
    )


@blueprint.get("/admin/users")
@access(ADMIN)
def users() -> tuple[str, int]:
    return _users_page(NewUserForm())


@blueprint.post("/admin/users")
@access(ADMIN)
def create_user_page() -> tuple[str, int]:
    form = NewUserForm()
    if not form.validate_on_submit():
        return _users_page(form, 400)
    try:
        user, password = create_user(
            db.session, email=form.email.data, role=form.role.data, password=None, now=utcnow()
        )
    except UserError as error:
        form.email.errors = [str(error)]
        return _users_page(form, 400)
    audit(
        db.session,
        "user created",
        now=utcnow(),
        user=current_user,
        target=f"user {user.id} ({user.email})",
        detail=f"role {user.role}",
    )
    db.session.commit()
    # Shown once, on this page only: never in a flash message, which travels in a cookie.
    return _users_page(NewUserForm(formdata=None), 200, created=(user.email, password))


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@blueprint.post("/admin/users/<int:user_id>/role")
@access(ADMIN)
def change_role(user_id: int) -> Response:
    user = _user(user_id)
    form = RoleForm()
    if form.validate_on_submit():
        if user.id == current_user.id and form.role.data != "admin":
            flash("You cannot take away your own admin role; ask another admin.", "error")
        else:
            before = user.role
            set_role(db.session, user, form.role.data)
            audit(
                db.session,
                "role changed",
                now=utcnow(),
                user=current_user,
                target=f"user {user.id} ({user.email})",
                detail=f"{before} -> {user.role}",
            )
            db.session.commit()
            flash(f"{user.email} is now {user.role.replace('_', ' ')}.", "success")
    else:
        flash("Choose one of the roles.", "error")
    return redirect(url_for(".users"))


@blueprint.post("/admin/users/<int:user_id>/deactivate")
@access(ADMIN)
def deactivate_user(user_id: int) -> Response:
    user = _user(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400, "The form expired; go back and try again.")
    if user.id == current_user.id:
        flash("You cannot deactivate yourself; ask another admin.", "error")
        return redirect(url_for(".users"))
    deactivate(db.session, user)
    audit(
        db.session,
        "user deactivated",
        now=utcnow(),
        user=current_user,
        target=f"user {user.id} ({user.email})",
    )
    db.session.commit()
    flash(f"{user.email} can no longer sign in; their sessions have ended.", "success")
    return redirect(url_for(".users"))


@blueprint.post("/admin/users/<int:user_id>/reset")
@access(ADMIN)
def send_reset(user_id: int) -> Response:
    user = _user(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400, "The form expired; go back and try again.")
    reset = queue_password_reset(db.session, user.email, current_app.config, utcnow())
    if reset is None:
        flash(f"{user.email} is deactivated: no link was sent.", "error")
        return redirect(url_for(".users"))
    audit(
        db.session,
        "password reset sent",
        now=utcnow(),
        user=current_user,
        target=f"user {user.id} ({user.email})",
    )
    db.session.commit()
    try:
        kick(in_background=True)
    except BrokerUnavailableError:
        pass
    flash(f"A link to choose a new password is on its way to {user.email}.", "success")
    return redirect(url_for(".users"))


@blueprint.get("/admin/audit")
@access(ADMIN)
def audit_log() -> str:
    page = request.args.get("page", "1")
    number = int(page) if page.isascii() and page.isdigit() and 0 < len(page) < 7 else 1
    number = max(number, 1)
    events = db.session.scalars(
        sa.select(AuditEvent)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((number - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE + 1)
    ).all()
    return render_template(
        "auth/audit.html",
        events=events[:AUDIT_PAGE_SIZE],
        page=number,
        more=len(events) > AUDIT_PAGE_SIZE,
    )
