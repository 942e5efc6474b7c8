import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from surveys.auth.models import USER_ROLES, ApiToken, User
from surveys.auth.services import (
    UserError,
    audit,
    create_user,
    deactivate,
    generated_password,
    get_user,
    set_password,
    set_role,
)
from surveys.auth.tokens import TokenError, create_token, revoke_token, tokens_of
from surveys.columns import utcnow
from surveys.extensions import db

users = AppGroup("users", help="Staff users: create, list, change role or password, deactivate.")
ACTOR = "command line"


def _password_from_stdin() -> str:
    """The first line of standard input, without its line break."""
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise click.ClickException("standard input held no password")
    return password


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(USER_ROLES), required=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (otherwise one is made and printed once).",
)
def create_command(email: str, role: str, password_stdin: bool) -> None:
    """Create a staff user."""
    password = _password_from_stdin() if password_stdin else None
    try:
        user, generated = create_user(
            db.session, email=email, role=role, password=password, now=utcnow()
        )
    except UserError as error:
        raise click.ClickException(str(error)) from None
    audit(
        db.session,
        "user created",
        now=utcnow(),
        actor=ACTOR,
        target=f"user {user.id}",
        detail=f"role {role}",
    )
    db.session.commit()
    click.echo(f"Created {user.email} ({role}).")
    if generated:
        click.echo(f"Password (shown once): {generated}")


@users.command("list")
def list_command() -> None:
    """Every user: address, role, active or not, two-factor, last sign-in."""
    for user in db.session.scalars(sa.select(User).order_by(User.email)):
        click.echo(
            "\t".join(
                [
                    user.email,
                    user.role,
                    "active" if user.active else "deactivated",
                    "2fa" if user.totp_enabled_at else "no-2fa",
                    user.last_login_at.strftime("%Y-%m-%d %H:%M")
                    if user.last_login_at
                    else "never",
                ]
            )
        )


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(USER_ROLES))
def set_role_command(email: str, role: str) -> None:
    """Give EMAIL the role ROLE."""
    try:
        user = get_user(db.session, email)
        before = user.role
        set_role(db.session, user, role)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    audit(
        db.session,
        "role changed",
        now=utcnow(),
        actor=ACTOR,
        target=f"user {user.id}",
        detail=f"{before} -> {role}",
    )
    db.session.commit()
    click.echo(f"{user.email} is now {role}.")


@users.command("set-password")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (otherwise one is made and printed once).",
)
def set_password_command(email: str, password_stdin: bool) -> None:
    """Give EMAIL a new password; every session of theirs ends."""
    password = _password_from_stdin() if password_stdin else generated_password()
    try:
        user = get_user(db.session, email)
        set_password(db.session, user, password)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    audit(db.session, "password changed", now=utcnow(), actor=ACTOR, target=f"user {user.id}")
    db.session.commit()
    click.echo(f"New password set for {user.email}; their sessions have ended.")
    if not password_stdin:
        click.echo(f"Password (shown once): {password}")


@users.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """EMAIL can no longer sign in; every session of theirs ends."""
    try:
        user = get_user(db.session, email)
        deactivate(db.session, user)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    audit(db.session, "user deactivated", now=utcnow(), actor=ACTOR, target=f"user {user.id}")
    db.session.commit()
    click.echo(f"{user.email} is deactivated.")


token = AppGroup("token", help="API tokens: create (shown once), list, revoke.")
users.add_command(token)


@token.command("create")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What uses it.")
def token_create_command(email: str, name: str) -> None:
    """Make an API token for EMAIL and print it once; only its hash is kept."""
    try:
        user = get_user(db.session, email)
        row, secret = create_token(db.session, user, name, utcnow())
    except (UserError, TokenError) as error:
        raise click.ClickException(str(error)) from None
    audit(
        db.session,
        "api token created",
        now=utcnow(),
        actor=ACTOR,
        target=f"api token {row.id} of user {user.id}",
        detail=row.name,
    )
    db.session.commit()
    click.echo(f"Token {row.id} ({row.name}) for {user.email}, shown once:", err=True)
    click.echo(secret)


@token.command("list")
@click.argument("email")
def token_list_command(email: str) -> None:
    """EMAIL's tokens: id, name, start of the token, created, last used, revoked."""
    try:
        user = get_user(db.session, email)
    except UserError as error:
        raise click.ClickException(str(error)) from None

    def when(moment) -> str:
        return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"

    for row in tokens_of(db.session, user):
        click.echo(
            "\t".join(
                [
                    str(row.id),
                    row.name,
                    row.prefix + "…",
                    when(row.created_at),
                    f"used {when(row.last_used_at)}",
                    f"revoked {when(row.revoked_at)}" if row.revoked_at else "live",
                ]
            )
        )


@token.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def token_revoke_command(token_id: int) -> None:
    """Revoke the token TOKEN_ID (see ``users token list``); it opens nothing from now on."""
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise click.ClickException(f"there is no token {token_id}")
    if not revoke_token(db.session, row, utcnow()):
        click.echo(f"Token {row.id} was already revoked.")
        return
    audit(
        db.session,
        "api token revoked",
        now=utcnow(),
        actor=ACTOR,
        target=f"api token {row.id} of user {row.user_id}",
        detail=row.name,
    )
    db.session.commit()
    click.echo(f"Token {row.id} ({row.name}) of {row.user.email} is revoked.")
