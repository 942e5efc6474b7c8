"""The admins' webhooks page: endpoints, their secrets (once), and the delivery log."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectMultipleField, URLField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from surveys.auth.access import ADMIN, blueprint_access
from surveys.auth.services import audit
from surveys.columns import utcnow
from surveys.extensions import db
from surveys.webhooks.models import EVENTS
from surveys.webhooks.services import (
    WebhookError,
    add_endpoint,
    deactivate_endpoint,
    endpoints,
    recent_messages,
)

blueprint = blueprint_access(Blueprint("webhooks", __name__, url_prefix="/admin/webhooks"), ADMIN)


class EndpointForm(FlaskForm):
    url = URLField("URL", validators=[DataRequired("Give the URL to POST to.")])
    events = SelectMultipleField(
        "Events",
        choices=[SelectChoice(event) for event in EVENTS],
        default=list(EVENTS),
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )


class ButtonForm(FlaskForm):
    """Only its CSRF token."""


def _page(form: EndpointForm, status: int = 200, created: tuple | None = None):
    return (
        render_template(
            "webhooks/index.html",
            form=form,
            button=ButtonForm(),
            endpoints=endpoints(db.session),
            messages=recent_messages(db.session),
            created=created,
        ),
        status,
    )


@blueprint.get("/")
def index() -> tuple[str, int]:
    return _page(EndpointForm())


@blueprint.post("/")
def add() -> tuple[str, int]:
    form = EndpointForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        endpoint, secret = add_endpoint(
            db.session, url=form.url.data, events=form.events.data or [], now=utcnow()
        )
    except WebhookError as error:
        form.url.errors = [str(error)]
        return _page(form, 400)
    audit(
        db.session,
        "webhook added",
        now=utcnow(),
        user=current_user,
        target=f"webhook {endpoint.id}",
        detail=", ".join(endpoint.events),
    )
    db.session.commit()
    # Shown once, on this page: never in a flash message, which travels in a cookie.
    return _page(EndpointForm(formdata=None), 200, created=(endpoint, secret))


@blueprint.post("/<int:webhook_id>/deactivate")
def deactivate(webhook_id: int) -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400, "The form expired; go back and try again.")
    try:
        endpoint = deactivate_endpoint(db.session, webhook_id)
    except WebhookError:
        abort(404)
    audit(
        db.session,
        "webhook deactivated",
        now=utcnow(),
        user=current_user,
        target=f"webhook {endpoint.id}",
    )
    db.session.commit()
    flash(f"Webhook {endpoint.id} is off.", "success")
    return redirect(url_for(".index"))
