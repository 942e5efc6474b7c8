import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from surveys.auth.models import USER_ROLES, User
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
