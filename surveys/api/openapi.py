"""The OpenAPI 3.1 document of /api/v1/, written by hand beside the views and built from
the same constants (reasons, roles, languages, limits), served at /api/v1/openapi.json.
A test runs schemathesis against the running app with it, so it cannot drift from what
the API answers."""

from functools import cache

from surveys.accounts.models import ACCOUNT_STATUSES, ROLES
from surveys.api import PREFIX
from surveys.api.pagination import CURSOR_MAX_LENGTH, DEFAULT_LIMIT, MAX_LIMIT, ROW_ID_MAX
from surveys.api.params import TEXT_MAX_LENGTH, WINDOW_DAYS
from surveys.campaigns.models import MANAGER_CONTACT, SURVEY_KINDS
from surveys.reasons.cover import SOURCES
from surveys.reasons.forms import FIRST_DATE, LAST_DATE
from surveys.reasons.nlp.labels import LANGUAGES, REASONS
from surveys.reports.nps import BAND_NAMES
from surveys.reports.queries import PERIODS
from surveys.reports.trends import BREAKDOWNS

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}


def nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    result = {**schema, "type": [schema["type"], "null"]}
    if "enum" in result:
        result["enum"] = [*result["enum"], None]
    return result


def enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


def obj(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(name: str) -> dict:
    return obj(
        {
            "items": {"type": "array", "items": ref(name)},
            "next": nullable({"type": "string", "format": "uri"}),
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        }
    )


NPS_FIELDS = {
    "nps": nullable({"type": "number", "minimum": -100, "maximum": 100}),
    "n": {"type": "integer", "minimum": 0},
    "promoters": {"type": "integer", "minimum": 0},
    "passives": {"type": "integer", "minimum": 0},
    "detractors": {"type": "integer", "minimum": 0},
    "ci_low": nullable({"type": "number", "minimum": -100, "maximum": 100}),
    "ci_high": nullable({"type": "number", "minimum": -100, "maximum": 100}),
    "band": nullable(enum(BAND_NAMES)),
    "band_indicative": BOOLEAN,
}
RESPONSE_RATE = {"response_rate": nullable({"type": "number", "minimum": 0})}
STRENGTH = nullable(
    obj(
        {
            "signals": {"type": "integer", "minimum": 0},
            "which": {"type": "array", "items": enum(dict.fromkeys(SOURCES.values()))},
        }
    )
)
SIGNAL = obj({"signal": enum(SOURCES), "detail": STRING})

SCHEMAS = {
    "Error": obj(
        {
            "error": obj(
                {
                    "status": INTEGER,
                    "code": STRING,
                    "message": STRING,
                    "parameter": STRING,
                },
                optional=("parameter",),
            )
        }
    ),
    "Account": obj(
        {
            "account_id": STRING,
            "name": STRING,
            "segment": nullable(STRING),
            "status": enum(ACCOUNT_STATUSES),
            "account_manager_email": nullable(STRING),
            "annual_revenue": nullable(NUMBER),
            "churned_at": nullable(TIME),
            "last_contacted_at": nullable(TIME),
            "created_at": TIME,
        }
    ),
    "AccountDetail": {
        "allOf": [
            ref("Account"),
            obj(
                {
                    "nps": obj({"since": TIME, **NPS_FIELDS, **RESPONSE_RATE}),
                    "contacts": {"type": "integer", "minimum": 0},
                }
            ),
        ]
    },
    "Contact": obj(
        {
            "contact_id": INTEGER,
            "account_id": STRING,
            "email": STRING,
            "name": nullable(STRING),
            "role": nullable(enum(ROLES)),
            "language": enum(LANGUAGES),
            "unsubscribed": BOOLEAN,
            "undeliverable": BOOLEAN,
            "created_at": TIME,
        }
    ),
    "Campaign": obj(
        {
            "campaign_id": INTEGER,
            "kind": enum(SURVEY_KINDS),
            "name": STRING,
            "created_at": TIME,
            "closes_at": TIME,
            "open": BOOLEAN,
            "remind_after_days": nullable(INTEGER),
            "invited": INTEGER,
            "sent": INTEGER,
            "answered": INTEGER,
        }
    ),
    "Answer": obj(
        {
            "response_id": INTEGER,
            "answered_at": TIME,
            "score": nullable({"type": "integer", "minimum": 0, "maximum": 10}),
            "category": nullable(enum(("promoter", "passive", "detractor"))),
            "reason": nullable(enum(REASONS)),
            "text_reason": nullable(enum(REASONS)),
            "comment": nullable(STRING),
            "felt_prioritised": nullable({"type": "integer", "minimum": 1, "maximum": 5}),
            "manager_contact": nullable(enum(MANAGER_CONTACT)),
            "campaign_id": INTEGER,
            "kind": enum(SURVEY_KINDS),
            "campaign_name": STRING,
            "contact_id": INTEGER,
            "contact_name": nullable(STRING),
            "role": nullable(enum(ROLES)),
            "language": enum(LANGUAGES),
            "account_id": STRING,
            "account_name": STRING,
            "segment": nullable(STRING),
            "account_manager_email": nullable(STRING),
        }
    ),
    "NPS": obj(
        {
            "since": TIME,
            "window_days": INTEGER,
            "accounts": {"type": "integer", "minimum": 0},
            **NPS_FIELDS,
            **RESPONSE_RATE,
        }
    ),
    "AccountNPS": obj(
        {
            "account_id": STRING,
            "name": STRING,
            "status": enum(ACCOUNT_STATUSES),
            **NPS_FIELDS,
            **RESPONSE_RATE,
            "since": TIME,
        }
    ),
    "TrendPoint": obj(
        {
            "period": STRING,
            **NPS_FIELDS,
            "change": nullable(NUMBER),
            "change_significant": nullable(BOOLEAN),
        }
    ),
    "Trend": obj(
        {
            "period": enum(PERIODS),
            "by": nullable(enum(BREAKDOWNS)),
            "periods": {"type": "array", "items": STRING},
            "series": {
                "type": "array",
                "items": obj(
                    {
                        "group": nullable(STRING),
                        "label": STRING,
                        "points": {"type": "array", "items": ref("TrendPoint")},
                    }
                ),
            },
        }
    ),
    "Reasons": obj(
        {
            "since": nullable(TIME),
            "until": nullable(TIME),
            "min_signals": INTEGER,
            "stated": obj({reason: INTEGER for reason in REASONS}),
            "found": obj({reason: INTEGER for reason in REASONS}),
            "price_answers": INTEGER,
            "price_covers": INTEGER,
            "price_cover_share": nullable({"type": "number", "minimum": 0, "maximum": 1}),
            "accounts": INTEGER,
        }
    ),
    "AccountReasons": obj(
        {
            "account_id": STRING,
            "name": STRING,
            "stated": {"type": "array", "items": enum(REASONS)},
            "found": {"type": "array", "items": enum(REASONS)},
            "price_is_cover": nullable(BOOLEAN),
            "strength": STRENGTH,
            "evidence": {"type": "array", "items": SIGNAL},
            "verdicts": {
                "type": "array",
                "items": obj(
                    {
                        "response_id": INTEGER,
                        "contact": STRING,
                        "answered_at": TIME,
                        "price_is_cover": BOOLEAN,
                        "strength": STRENGTH,
                        "signals": {"type": "array", "items": SIGNAL},
                    }
                ),
            },
        }
    ),
    "Verbatim": obj(
        {
            "response_id": INTEGER,
            "account_id": STRING,
            "account_name": STRING,
            "contact": STRING,
            "role": nullable(enum(ROLES)),
            "kind": enum(SURVEY_KINDS),
            "answered_at": TIME,
            "score": nullable({"type": "integer", "minimum": 0, "maximum": 10}),
            "reason": nullable(enum(REASONS)),
            "comment": nullable(STRING),
            "text_language": nullable(STRING),
            "polarity": nullable(NUMBER),
            "felt_prioritised": nullable({"type": "integer", "minimum": 1, "maximum": 5}),
            "manager_contact": nullable(enum(MANAGER_CONTACT)),
            "found": {"type": "array", "items": enum(REASONS)},
            "text_reasons": {
                "type": "array",
                "items": obj(
                    {
                        "reason": enum(REASONS),
                        "score": NUMBER,
                        "found": BOOLEAN,
                        "evidence": {"type": "array", "items": STRING},
                        "set_aside": {"type": "array", "items": STRING},
                    }
                ),
            },
        }
    ),
}
for _name in (
    "Account",
    "Contact",
    "Campaign",
    "Answer",
    "AccountNPS",
    "AccountReasons",
    "Verbatim",
):
    SCHEMAS[f"{_name}Page"] = page_of(_name)


def query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


TEXT = {"type": "string", "maxLength": TEXT_MAX_LENGTH}
DATE = {"type": "string", "format": "date"}
ROW = {"type": "integer", "minimum": 1, "maximum": ROW_ID_MAX}
PARAMETERS = {
    "limit": query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        f"Items a page, 1 to {MAX_LIMIT}.",
    ),
    "cursor": query(
        "cursor",
        {"type": "string", "minLength": 1, "maxLength": CURSOR_MAX_LENGTH},
        "Where the page starts: take the previous page's `next` URL as it is.",
    ),
    "since": query("since", DATE, f"Answers from this day on (UTC), {FIRST_DATE} to {LAST_DATE}."),
    "until": query("until", DATE, "Answers up to the end of this day (UTC), not before since."),
    "segment": query("segment", TEXT, "Only accounts of this segment."),
    "role": query("role", enum(ROLES), "Only contacts of this role."),
    "language": query("language", enum(LANGUAGES), "Only contacts of this language."),
    "kind": query("kind", enum(SURVEY_KINDS), "Only answers to this kind of survey."),
    "account": query("account", TEXT, "Only this account (its account_id)."),
    "campaign": query("campaign", ROW, "Only answers to this campaign."),
    "status": query("status", enum(ACCOUNT_STATUSES), "Only accounts of this status."),
    "window_days": query(
        "window_days",
        {"type": "integer", "minimum": WINDOW_DAYS[0], "maximum": WINDOW_DAYS[1]},
        "Count answers of the last N days (default: the report window, 365).",
    ),
    "period": query("period", enum(PERIODS), "One point a month (default) or a quarter."),
    "by": query("by", enum(BREAKDOWNS), "One series a group of this."),
    "min_signals": query(
        "min_signals",
        {"type": "integer", "enum": [2, 3]},
        "Count a price-as-cover verdict only on at least this many independent signals.",
    ),
    "reason": query("reason", enum(REASONS), "Only answers with this reason."),
    "source": query(
        "source", enum(("found", "stated")), "The reason found in the words (default) or picked."
    ),
}


def params(*names: str) -> list[dict]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in names]


def error(description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": ref("Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


RESPONSES = {
    "BadRequest": error("A query parameter is wrong; `parameter` names it."),
    "Unauthorized": error(
        "No token, or one that is unknown, revoked or of a deactivated user.",
        {"WWW-Authenticate": {"required": True, "schema": STRING}},
    ),
    "NotFound": error("No such thing, or nothing this token's user may see."),
    "TooManyRequests": error(
        "Over the rate limit of this token.",
        {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}},
    ),
}


def operation(
    summary: str,
    schema: str,
    parameters: tuple[str, ...] = (),
    *,
    path_parameter: dict | None = None,
    links: dict[str, tuple[str, str, str]] | None = None,
) -> dict:
    """One GET; ``links`` names, for each link, the operation a list's first item leads to,
    its path parameter and the item's field that fills it."""
    ok = {"description": "OK", "content": {"application/json": {"schema": ref(schema)}}}
    if links:
        ok["links"] = {
            name: {
                "operationId": operation_id,
                "parameters": {parameter: f"$response.body#/items/0/{field}"},
            }
            for name, (operation_id, parameter, field) in links.items()
        }
    responses = {
        "200": ok,
        "400": {"$ref": "#/components/responses/BadRequest"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "404": {"$ref": "#/components/responses/NotFound"},
        "429": {"$ref": "#/components/responses/TooManyRequests"},
    }
    return {
        "summary": summary,
        "parameters": ([path_parameter] if path_parameter else []) + params(*parameters),
        "responses": responses,
    }


PAGE = ("limit", "cursor")
ANSWER_FILTERS = ("since", "until", "segment", "role", "language", "kind", "account", "campaign")
REASON_FILTERS = ("since", "until", "segment", "role", "language", "kind", "account", "min_signals")


def _operations() -> dict:
    external_id = {
        "name": "external_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
        "description": "The account's own id (account_id).",
    }

    def row_id(name: str) -> dict:
        return {"name": name, "in": "path", "required": True, "schema": ROW}

    table = {
        "/accounts": operation(
            "The accounts the token sees",
            "AccountPage",
            (*PAGE, "segment", "status"),
            links={"account": ("accounts_external_id", "external_id", "account_id")},
        ),
        "/accounts/{external_id}": operation(
            "One account, with its NPS and number of contacts",
            "AccountDetail",
            ("window_days",),
            path_parameter=external_id,
        ),
        "/contacts": operation(
            "The contacts of the accounts the token sees",
            "ContactPage",
            (*PAGE, "account", "role", "language"),
            links={"contact": ("contacts_contact_id", "contact_id", "contact_id")},
        ),
        "/contacts/{contact_id}": operation(
            "One contact", "Contact", path_parameter=row_id("contact_id")
        ),
        "/campaigns": operation(
            "Campaigns with their counts (CX and admins)",
            "CampaignPage",
            (*PAGE, "kind"),
            links={"campaign": ("campaigns_campaign_id", "campaign_id", "campaign_id")},
        ),
        "/campaigns/{campaign_id}": operation(
            "One campaign (CX and admins)", "Campaign", path_parameter=row_id("campaign_id")
        ),
        "/answers": operation("Answers, oldest first", "AnswerPage", (*PAGE, *ANSWER_FILTERS)),
        "/nps": operation("NPS of all the accounts the token sees", "NPS", ("window_days",)),
        "/nps/accounts": operation("NPS per account", "AccountNPSPage", (*PAGE, "window_days")),
        "/nps/trend": operation(
            "NPS over time, per month or quarter, overall or by group",
            "Trend",
            ("period", "by", *[name for name in ANSWER_FILTERS if name != "kind"]),
        ),
        "/reasons": operation(
            "Stated against found reasons, and the share of price answers that are a cover",
            "Reasons",
            REASON_FILTERS,
        ),
        "/reasons/accounts": operation(
            "Each account's reasons and price-as-cover verdict",
            "AccountReasonsPage",
            (*PAGE, *REASON_FILTERS),
        ),
        "/reasons/verbatims": operation(
            "Answers with what their words say, newest first",
            "VerbatimPage",
            (*PAGE, *REASON_FILTERS, "reason", "source"),
        ),
    }
    paths = {
        path: {
            "get": {
                **item,
                "operationId": path.strip("/").replace("/", "_").replace("{", "").replace("}", ""),
            }
        }
        for path, item in table.items()
    }
    paths["/openapi.json"] = {
        "get": {
            "summary": "This document",
            "operationId": "openapi",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "429": {"$ref": "#/components/responses/TooManyRequests"},
            },
        }
    }
    return paths


@cache
def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Surveys API",
            "version": "1",
            "description": (
                "Read-only JSON of accounts, contacts, campaigns, answers, NPS and reasons, "
                "scoped as the token's user's pages are. Send `Authorization: Bearer TOKEN` "
                "(make one on /account/tokens or with `flask users token create EMAIL`). "
                f"Lists are pages of `limit` items ({DEFAULT_LIMIT} by default, at most "
                f"{MAX_LIMIT}); `next` is the URL of the next page, or null."
            ),
        },
        "servers": [{"url": PREFIX}],
        "security": [{"bearer": []}],
        "paths": _operations(),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token."}
            },
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "responses": RESPONSES,
        },
    }
