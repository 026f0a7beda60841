"""crawlers.extract.landing: public counters and PerfectPanel fingerprints of landing pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawlers.extract import landing
from crawlers.items import RawCounter

FIXTURES = Path(__file__).parent / "fixtures" / "smm"


def counters(markup: str | bytes) -> list[tuple[str, str, str]]:
    return [(counter.name, counter.value, counter.label)
            for counter in landing.extract_counters(markup)]


def test_perfectpanel_landing_counters() -> None:
    body = (FIXTURES / "landing" / "perfectpanel_landing_en.html").read_bytes()
    assert counters(body) == [
        ("orders", "3832058", "Orders Completed"),  # data-count while the text is still 0
        ("customers", "5253+", "Happy Clients"),  # data-to, with the "+" shown after it
        ("services", "1240", "Services"),
    ]
    notes = landing.extract_landing(body).notes
    assert "skipped '$0.001/1K' 'Starting Price' (price text): a price, not a counter" in notes


def test_turkish_spanish_and_javascript_counters() -> None:
    body = (FIXTURES / "landing" / "landing_tr_es_js.html").read_bytes()
    assert counters(body) == [
        ("orders", "1284733", "Toplam Sipariş"),  # data-purecounter-end
        ("orders", "1279501", "Tamamlanan Sipariş"),  # new countUp.CountUp('tamamlanan', ...)
        ("customers", "48210", "Kayıtlı Üye"),  # CountUp v1: (id, start, end)
        ("services", "850+", "Aktif Servis"),
        ("orders", "2.512.004", "Pedidos completados"),
        ("customers", "18.400", "Clientes"),
        ("orders", "1,2M", "Pedidos"),
    ]


COUNTER_CASES = [
    ("number then label in one element", "<div class='stat'>3832058 Total Orders</div>",
     [("orders", "3832058", "Total Orders")]),
    ("label then number", "<li>Total orders: 3,832,058</li>",
     [("orders", "3,832,058", "Total orders")]),
    ("plus suffix in text", "<p><span>5253+</span> Happy Clients</p>",
     [("customers", "5253+", "Happy Clients")]),
    ("registered users", "<div><h3 data-target='91000'>0</h3><span>Registered Users</span></div>",
     [("customers", "91000", "Registered Users")]),
    ("members", "<div><b>12K+</b><small>Members</small></div>", [("customers", "12K+", "Members")]),
    ("text already at its final value", "<div><h2 data-count='3832058'>3,832,058</h2>"
     "<p>Orders</p></div>", [("orders", "3,832,058", "Orders")]),
    ("portuguese", "<div><strong>150.000</strong> Pedidos realizados</div>",
     [("orders", "150.000", "Pedidos realizados")]),
    ("indonesian", "<div><h4>25.000</h4><p>Pesanan Selesai</p></div>",
     [("orders", "25.000", "Pesanan Selesai")]),
    ("russian", "<div><span>48 000</span> заказов выполнено</div>",
     [("orders", "48 000", "заказов выполнено")]),
    ("the same counter twice (desktop and mobile)",
     "<div><h2>9100</h2><p>Orders</p></div><div><h2>9100</h2><p>Orders</p></div>",
     [("orders", "9100", "Orders")]),
    ("countUp with an unknown element id", "<script>new CountUp('total-orders', 774201).start()"
     "</script>", [("orders", "774201", "total orders")]),
    ("a starting price is not a counter", "<div><h2>$0.001/1K</h2><p>Starting Price</p></div>", []),
    ("a price word in the label", "<div><h2>0.001</h2><p>Prices from</p></div>", []),
    ("percentages and slogans", "<ul><li><b>99%</b> Satisfaction</li><li><b>24/7</b> Support</li>"
     "</ul>", []),
    ("an unknown label", "<div><h2>54</h2><p>Countries</p></div>", []),
    ("zero with no final value", "<div><h2 class='counter'>0</h2><p>Orders</p></div>", []),
    ("numbers in scripts and options are ignored", "<select><option>100 Orders</option></select>"
     "<script>var orders = 5;</script>", []),
]


@pytest.mark.parametrize(("markup", "expected"), [case[1:] for case in COUNTER_CASES],
                         ids=[case[0] for case in COUNTER_CASES])
def test_counter_forms(markup: str, expected: list[tuple[str, str, str]]) -> None:
    assert counters(f"<html><body>{markup}</body></html>") == expected


@pytest.mark.parametrize(("markup", "reason"), [
    ("<div><h2>$0.001/1K</h2><p>Starting Price</p></div>", "a price, not a counter"),
    ("<div><h2>54</h2><p>Countries</p></div>", "the label names none of orders, customers, services"),
    ("<div><h2 class='counter'>0</h2><p>Orders</p></div>", "zero (an animated counter"),
], ids=["price", "unknown label", "zero"])
def test_skipped_numbers_are_explained(markup: str, reason: str) -> None:
    notes = landing.extract_landing(f"<html><body>{markup}</body></html>").notes
    assert any(reason in note for note in notes), notes


@pytest.mark.parametrize("body", [b"", "   ", b"\xff\xfe"], ids=["empty", "blank", "bom only"])
def test_an_unreadable_page_has_no_counters_and_does_not_raise(body: bytes | str) -> None:
    assert landing.extract_counters(body) == []
    assert landing.fingerprint_perfectpanel(body) == []


def test_counters_are_raw_counter_items() -> None:
    (counter,) = landing.extract_counters("<p>12 Services</p>")
    assert counter == RawCounter(name="services", value="12", label="Services")


# -- fingerprints ---------------------------------------------------------------------------------

def test_perfectpanel_fingerprint_on_a_login_landing_page() -> None:
    body = (FIXTURES / "landing" / "perfectpanel_landing_en.html").read_bytes()
    assert landing.fingerprint_perfectpanel(body) == [
        "asset on cdn.mypanel.link: https://cdn.mypanel.link/8bz3qj/favicon.png",
        "login form field LoginForm[username]",
        "_csrf token field (Yii)",
        "/signup link: /signup",
    ]


@pytest.mark.parametrize(("fixture", "expected"), [
    ("html/perfectpanel_new_tr_star.html", ["asset on cdn.mypanel.link", "_csrf token field",
                                            "/signup link"]),
    ("html/smartpanel_inr.html", []),
    ("html/tables_per_category_es.html", []),
    ("html/cloudflare.html", []),
], ids=["perfectpanel services page", "smartpanel", "laravel clone", "cloudflare"])
def test_fingerprint_evidence(fixture: str, expected: list[str]) -> None:
    evidence = landing.fingerprint_perfectpanel((FIXTURES / fixture).read_bytes())
    assert len(evidence) == len(expected), evidence
    for clue, expected_start in zip(evidence, expected, strict=True):
        assert clue.startswith(expected_start)


@pytest.mark.parametrize(("markup", "expected"), [
    ("<span class='odometer' id='orders-counter'>0</span><p>Orders processed</p>"
     "<script>var ordersCompleted = 333752;\ndocument.addEventListener('DOMContentLoaded', "
     "function () { document.getElementById('orders-counter').innerHTML = ordersCompleted; });"
     "</script>", [("orders", "333752", "Orders processed")]),
    ("<div><b id='clients'>0</b> Happy Clients</div>"
     "<script>document.querySelector('#clients').textContent = 5253;</script>",
     [("customers", "5253", "Happy Clients")]),
    ("<div><h3 id='total'>0</h3><p>Total Orders</p></div>"
     "<script>$('#total').countTo({from: 0, to: 3832058, speed: 2000});</script>",
     [("orders", "3832058", "Total Orders")]),
    ("<div><h3 id='total'>0</h3><p>Total Orders</p></div>"
     "<script>var shown = 0; document.getElementById('total').innerHTML = unknownVariable;</script>",
     []),
], ids=["getElementById with a variable", "querySelector literal", "jQuery countTo",
        "unresolved variable"])
def test_counters_whose_value_is_set_by_a_script(markup: str,
                                                 expected: list[tuple[str, str, str]]) -> None:
    assert counters(f"<html><body>{markup}</body></html>") == expected
