"""The accounts list: search, filters, sort and pages, driven through the query string."""

import re

import pytest

from tests.conftest import sign_in
from tests.helpers import create_campaign, send, token_of

AM = "anna@supplier.example"


def names(response) -> list[str]:
    """The account names in the list's rows, in order (the overall row left out)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    return re.findall(r'<th scope="row" data-label="Account"><a [^>]*>([^<]*)</a>', body)


def answer(client, smtp_sink, scores: dict[str, int]) -> None:
    for message in smtp_sink.messages:
        email = message["To"].addresses[0].addr_spec
        if email in scores:
            response = client.post(f"/r/{token_of(message)}", data={"score": scores[email]})
            assert response.status_code == 303


@pytest.fixture
def accounts(app, runner, client, make_account, smtp_sink):
    """Four accounts: Bergvik answered by three (NPS +100, a band), Ålesund by one (-100,
    too few for a band), Caldera never, Dovre churned."""
    high = make_account(
        "en", "en", "en", name="Bergvik AB", segment="SMB", account_manager_email=AM
    )
    low = make_account("en", name="Ålesund 50%_Rabatt AS", segment="Enterprise", external_id="NO-7")
    make_account("en", name="Caldera Oy", segment="SMB")
    make_account("en", name="Dovre AS", status="churned", account_manager_email=AM)
    send(runner, create_campaign(runner))
    answer(client, smtp_sink, {**dict.fromkeys(high.emails, 10), low.emails[0]: 0})


def test_the_list_is_sorted_by_name_by_default(client, accounts):
    assert names(client.get("/accounts/")) == [
        "Bergvik AB",
        "Caldera Oy",
        "Dovre AS",
        "Ålesund 50%_Rabatt AS",
    ]


def test_sorting_by_nps_puts_accounts_without_answers_last_either_way(client, accounts):
    ascending = names(client.get("/accounts/?sort=nps&order=asc"))
    descending = names(client.get("/accounts/?sort=nps&order=desc"))
    assert ascending[:2] == ["Ålesund 50%_Rabatt AS", "Bergvik AB"]
    assert descending[:2] == ["Bergvik AB", "Ålesund 50%_Rabatt AS"]
    assert set(ascending[2:]) == set(descending[2:]) == {"Caldera Oy", "Dovre AS"}


def test_the_sorted_column_says_so_and_links_to_the_reverse(client, accounts):
    body = client.get("/accounts/?sort=n&order=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in body
    assert "sort=n&amp;order=asc" in body
    assert body.count("aria-sort=") == 1


def test_search_finds_names_and_ids_and_treats_wildcards_as_text(client, accounts):
    assert names(client.get("/accounts/?q=bergvik")) == ["Bergvik AB"]
    assert names(client.get("/accounts/?q=no-7")) == ["Ålesund 50%_Rabatt AS"]
    assert names(client.get("/accounts/?q=50%25_")) == ["Ålesund 50%_Rabatt AS"]
    # % and _ are characters to find, not patterns: nothing else has them
    assert names(client.get("/accounts/?q=%25")) == ["Ålesund 50%_Rabatt AS"]
    assert names(client.get("/accounts/?q=_")) == ["Ålesund 50%_Rabatt AS"]
    body = client.get("/accounts/?q=nowhere").get_data(as_text=True)
    assert "No account matches these filters." in body
    assert "These accounts" in body


def test_filters_narrow_the_rows_and_the_overall_figure(client, accounts):
    assert names(client.get("/accounts/?segment=SMB")) == ["Bergvik AB", "Caldera Oy"]
    assert names(client.get(f"/accounts/?manager={AM}")) == ["Bergvik AB", "Dovre AS"]
    assert names(client.get("/accounts/?status=churned")) == ["Dovre AS"]
    assert names(client.get("/accounts/?band=none")) == [
        "Caldera Oy",
        "Dovre AS",
        "Ålesund 50%_Rabatt AS",
    ]
    response = client.get("/accounts/?band=world_class")
    assert names(response) == ["Bergvik AB"]
    overall = response.get_data(as_text=True).split('class="overall"')[1].split("</tr>")[0]
    assert "These accounts" in overall
    assert "+100" in overall


def test_pages_of_fifty(app, client, make_account):
    for number in range(1, 53):
        make_account("en", name=f"Konto {number:03d}")
    first = client.get("/accounts/")
    assert len(names(first)) == 50
    assert "page 1 of 2" in first.get_data(as_text=True)
    assert 'rel="next"' in first.get_data(as_text=True)
    second = client.get("/accounts/?page=2")
    assert names(second) == ["Konto 051", "Konto 052"]
    # a page past the end shows the last one
    assert names(client.get("/accounts/?page=99")) == ["Konto 051", "Konto 052"]


@pytest.mark.parametrize(
    "query",
    [
        "sort=password",
        "order=sideways",
        "band=legendary",
        "status=zombie",
        "segment=Nowhere",
        "manager=someone@else.example",
        "page=0",
        "page=-1",
        "page=abc",
        "page=%D9%A3",  # Arabic-Indic three
        "page=99999999999999999999",
        "q=" + "x" * 101,
    ],
)
def test_hostile_parameters_get_a_clear_400(client, accounts, query):
    response = client.get(f"/accounts/?{query}")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Traceback" not in body


def test_nul_in_the_search_is_refused(client, accounts):
    assert client.get("/accounts/?q=a%00b").status_code == 400


def test_head_is_answered_like_get_without_a_body(client, accounts):
    response = client.head("/accounts/?sort=nps")
    assert response.status_code == 200
    assert response.get_data() == b""


def test_an_account_manager_filters_only_among_their_accounts(app, accounts, make_user):
    manager = sign_in(app.test_client(), make_user(AM, "account_manager"))
    assert names(manager.get("/accounts/")) == ["Bergvik AB", "Dovre AS"]
    assert names(manager.get("/accounts/?q=%C3%A5lesund")) == []
    assert names(manager.get("/accounts/?segment=SMB")) == ["Bergvik AB"]
    # a segment only others' accounts have is not offered, so it is refused
    assert manager.get("/accounts/?segment=Enterprise").status_code == 400
    body = manager.get("/accounts/").get_data(as_text=True)
    assert "Enterprise" not in body


def test_the_download_holds_the_rows_the_page_shows_in_its_order(client, accounts):
    page = client.get("/accounts/?segment=SMB&sort=nps&order=desc&page=1")
    body = page.get_data(as_text=True)
    link = re.search(r'href="(/exports/nps\.csv[^"]*sep=,)"', body).group(1)
    assert "segment=SMB" in link and "order=desc" in link
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    assert [line.split(",")[1] for line in lines[2:]] == ["Bergvik AB", "Caldera Oy"]


def test_the_download_refuses_what_the_page_refuses(client, accounts):
    assert client.get("/exports/nps.csv?sort=password").status_code == 400
    assert client.get("/exports/nps.csv?band=legendary").status_code == 400
