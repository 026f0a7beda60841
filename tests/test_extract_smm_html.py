"""crawlers.extract.smm_html: the public /services page -> raw offers.

Fixtures in tests/fixtures/smm/html are hand-written in the shapes of real themes (FORMATS.md §2):
PerfectPanel classic (category rows, modal descriptions, currency dropdown), PerfectPanel newer
Turkish theme (favourite star, d-none descriptions), a SmartPanel-like page (tbody#service-body,
"Min / Max"), an order form with <select> options, a Vietnamese page with styled Unicode and
double-escaped entities, a Portuguese page with a currency switcher and original prices in
tooltips, a Spanish clone with one table per category and data-label cells, an Indonesian card
list, an empty table, a maintenance page and a Cloudflare challenge.
"""

from __future__ import annotations

import csv
import gzip
import html
import re
from pathlib import Path

import pytest

from crawlers.extract import smm_html
from crawlers.extract.smm_html import classify_header, extract_services_page
from crawlers.items import ExtractError, ExtractResult, RawOffer

HTML = Path(__file__).parent / "fixtures" / "smm" / "html"


def extract(name: str) -> ExtractResult:
    return extract_services_page((HTML / name).read_bytes(), base_url=f"https://panel.example/{name}")


def offers_by_id(name: str) -> dict[str | None, RawOffer]:
    return {offer.site_offer_id: offer for offer in extract(name).offers}


# -- per-field expectations ----------------------------------------------------------------------

EXPECTED_OFFERS = [
    ("perfectpanel_classic_en.html", "1143", dict(
        name="Instagram Followers [100K] [NON DROP] [R30] [1H - 3K/Day] ⚡♻🔥",
        category="Instagram Followers", price="$7.36", min_quantity="20", max_quantity="100000",
        average_time="81 hours 55 minutes",
        description="Start Time: 0 - 1H\nSpeed: 1-3K/Day\nQuality: HQ\n"
                    "Refill: NON DROP (if any drop Refill 30 Days)")),
    ("perfectpanel_classic_en.html", "1116", dict(
        name="Instagram Followers [ 500/day ] [Real Mixed ] [ 30 Days Refill] [PS-2] 🆕🆕",
        category="Instagram Followers", price="$2.97", average_time="Not enough data",
        description=None)),
    ("perfectpanel_classic_en.html", "1460", dict(
        name="Instagram Likes [20K] [INSTANT - INSTANT] 💧", category="Instagram Likes",
        price="$0.0135", min_quantity="100", max_quantity="5000", average_time="45 minutes",
        description="Start Time: 0-5 Minutes\nSpeed: 15K/ day\nRefill: No refill")),
    ("perfectpanel_classic_en.html", "161", dict(
        category="Telegram", price="$0.90",
        description="⚠️ Public channels only\n\nLink: https://t.me/yourchannel")),
    ("perfectpanel_classic_en.html", "2166", dict(
        name="Taiwan Traffic from Bing.com", category="Website Traffic [Worldwide]",
        price="$0.35", max_quantity="1000000",
        description="💎 100% Real & Unique Traffic\n💻 Desktop Traffic 45-55%\n"
                    "✓ Google Analytics Supported")),
    ("perfectpanel_new_tr_star.html", "2871", dict(
        name="Instagram Türk Takipçi | %100 Gerçek | Düşüş Yok | 30 Gün Telafi 🇹🇷",
        category="Instagram Takipçi", price="₺45,00", min_quantity="100", max_quantity="10.000",
        average_time="5 saat 12 dakika",
        description="Başlangıç: 0-1 saat\nHız: Günlük 1K\nKalite: Gerçek Türk hesaplar\n"
                    "Telafi: 30 gün")),
    ("perfectpanel_new_tr_star.html", "2902", dict(
        price="₺3,20", max_quantity="50.000", average_time="Yeterli veri yok", description=None)),
    ("perfectpanel_new_tr_star.html", "3104", dict(
        category="Instagram Beğeni", price="₺12,75",
        description="Gizli hesaplara gönderim yapılmaz.\nSipariş verirken gönderi linkini giriniz.")),
    ("perfectpanel_new_tr_star.html", "3312", dict(
        name="Youtube İzlenme | Ömür Boyu Garanti | Günlük 10K - 50K 🔥", category="YouTube İzlenme",
        min_quantity="1.000", max_quantity="1.000.000")),
    ("smartpanel_inr.html", "587", dict(
        name="Instagram Likes [ Max - 6k ] - cheap", category="📸 Instagram Likes", price="₹75",
        min_quantity="50", max_quantity="6000", average_time="1 hour 12 minutes",
        description="Start: 0-1 hr\nSpeed: 5K/day\nNo refill")),
    ("smartpanel_inr.html", "612", dict(price="₹1,250.50", min_quantity="100",
                                        max_quantity="20000")),
    ("smartpanel_inr.html", "614", dict(
        name="TikTok Followers | Non Drop | Fast | HQ &amp; Data Real | Refill 3 Day | 20K - 50K/Day",
        category="🎵 TikTok Followers", price="₹9.88", min_quantity="10",
        max_quantity="1000000", description="Link: TikTok profile link\nRefill: 3 days")),
    ("order_form_select.html", "614", dict(
        name="TikTok Followers | Non Drop | 20K - 50K/Day", category="TikTok Followers",
        price="0.119", currency="$", min_quantity="10", max_quantity="1000000",
        pricing="per_1000", service_type="Default")),
    ("order_form_select.html", "702", dict(
        name="🇧🇷 Youtube Views | 1M | BRAZIL | 1H - 10K+/Day |", category="🇧🇷 Youtube Views",
        price="2.1", description="Start: 0-6 hours\nRetention: 1-3 min")),
    ("order_form_select.html", "1180", dict(
        name="Instagram 10 Custom Comments [Package]", category="Instagram Comments",
        price="18.00", pricing="package", min_quantity="1", max_quantity="1")),
    ("styled_unicode_vi.html", "5021", dict(
        name="TikTok - Người theo dõi | Tối đa 1M | Không bảo hành",
        category="TikTok - Người theo dõi", price="18.500đ", min_quantity="100",
        max_quantity="1.000.000", average_time="2 giờ 10 phút",
        description="Tốc độ: 10K/ngày\nKhông bảo hành")),
    ("styled_unicode_vi.html", "5022", dict(
        name="TikTok Followers | 𝐍𝐎𝐍 𝐃𝐑𝐎𝐏 | HQ &amp; Data Real | 𝟏𝟎𝟎𝐊/𝐃",
        price="200 000 ₫", max_quantity="200 000", average_time="Chưa đủ dữ liệu")),
    ("styled_unicode_vi.html", "5104", dict(
        name="🇻🇳 Instagram Likes Việt | 𝗛𝗤 | Bảo hành 30 ngày ♻️",
        category="Instagram - Lượt thích", price="9.900đ")),
    ("currency_tooltip_pt.html", "906", dict(
        name="🇧🇷 [PORTUGUESE] | Instagram Random Comments",
        category="🇧🇷 Instagram Seguidores Brasileiros", price="$30.00", min_quantity="5",
        max_quantity="1000", average_time="42 horas 14 minutos",
        description="🇧🇷 BRAZIL IG RANDOM COMMENTS\n▪️REAL AND ACTIVE ACCOUNTS\n"
                    "▪️Portuguese comments")),
    ("currency_tooltip_pt.html", "911", dict(price="$0.24", average_time="Dados insuficientes")),
    ("currency_tooltip_pt.html", "1232", dict(category="Spotify Plays", price="$2.30")),
    ("tables_per_category_es.html", "3080", dict(
        name="Instagram Seguidores Latinos [Máx 15K] [Reposición 30 días] ⚡️",
        category="Instagram Seguidores", price="$ 3.48", min_quantity="50",
        max_quantity="15000", average_time="6 horas 20 minutos",
        description="Inicio: 0-6 horas\nVelocidad: 2K por día")),
    ("tables_per_category_es.html", "4969", dict(
        category="YouTube Vistas", price="$ 1.15", max_quantity="900000000")),
    ("cards_id.html", "2304", dict(
        name="Instagram Followers Indonesia Aktif [Max 5K] [Garansi 30 Hari] ♻️",
        category="Instagram Followers Indonesia", price="Rp 15.000", min_quantity="100",
        max_quantity="5.000", average_time="3 jam 5 menit")),
    ("cards_id.html", "2410", dict(category="TikTok Views", price="Rp 350",
                                   max_quantity="10.000.000")),
]


@pytest.mark.parametrize(("fixture", "service_id", "expected"), EXPECTED_OFFERS,
                         ids=[f"{fixture.removesuffix('.html')}-{service_id}"
                              for fixture, service_id, _ in EXPECTED_OFFERS])
def test_offer_fields(fixture: str, service_id: str, expected: dict) -> None:
    offer = offers_by_id(fixture)[service_id]
    for field_name, value in expected.items():
        assert getattr(offer, field_name) == value, field_name
    assert offer.source == "html"


# -- page-level expectations ----------------------------------------------------------------------

PAGES = [
    # fixture, offer ids in order, rejected ids, page currency, notes that must appear
    ("perfectpanel_classic_en.html", ["1143", "1116", "1460", "161", "2166"], ["1488"], "USD",
     ["table #1 (id='service-table') of 2 tables is the price list",
      "columns by header row: 'ID'->site_offer_id, 'Service'->name, 'Rate per 1000'->price, "
      "'Min order'->min_quantity, 'Max order'->max_quantity, 'Average time'->average_time, "
      "'Description'->description",
      "6 service rows, 4 category rows", "page currency 'USD' from the currency switcher"]),
    ("perfectpanel_new_tr_star.html", ["2871", "2902", "3104", "3312"], ["3311"], None,
     ["'1000 adet fiyatı'->price", "'Ortalama süre'->average_time", "ignored: '(blank)'"]),
    ("smartpanel_inr.html", ["587", "612", "614", "615"], ["615"], "₹",
     ["'Min / Max'->min_max", "1 rows repeat a service already read",
      "page currency '₹' from the price column header"]),
    ("order_form_select.html", ["614", "615", "702", "1180"], ["1181"], "USD",
     ["no price table: read 5 <option> elements of <select id='orderform-service'",
      "page currency 'USD' from the currency switcher's selected option"]),
    ("styled_unicode_vi.html", ["5021", "5022", "5103", "5104"], [], "VND",
     ["'Dịch vụ'->name", "'Giá mỗi 1000'->price", "page currency 'VND' from a <meta>"]),
    ("currency_tooltip_pt.html", ["906", "911", "1232"], [], None,
     ["3 prices read from a tooltip",
      "the currency switcher shows BRL, but prices come from tooltips"]),
    ("tables_per_category_es.html", ["3080", "3081", "4969"], ["4970"], None,
     ["2 of 3 tables look like price lists: combined", "columns by data-label attributes"]),
    ("cards_id.html", ["2304", "2305", "2410"], [], None,
     ["no price table: read 3 cards whose fields carry data-label attributes"]),
    ("empty_table.html", [], [], None,
     ["the price table has headers but no service rows: 0 offers"]),
]


@pytest.mark.parametrize(("fixture", "offer_ids", "rejected_ids", "currency", "notes"), PAGES,
                         ids=[page[0].removesuffix(".html") for page in PAGES])
def test_pages(fixture: str, offer_ids: list[str], rejected_ids: list[str],
               currency: str | None, notes: list[str]) -> None:
    result = extract(fixture)
    assert [offer.site_offer_id for offer in result.offers] == offer_ids
    assert [rejection.site_offer_id for rejection in result.rejected] == rejected_ids
    assert result.currency == currency
    assert result.counters == []
    for note in notes:
        assert any(note in line for line in result.notes), (note, result.notes)


@pytest.mark.parametrize(("fixture", "service_id", "reason"), [
    ("perfectpanel_classic_en.html", "1488", "row 7: no price"),
    ("perfectpanel_new_tr_star.html", "3311", "row 8: no service name"),
    ("smartpanel_inr.html", "615", "duplicate service id '615' with a different name or price"),
    ("order_form_select.html", "1181", "<option> #5 (value='1181'): no price"),
    ("tables_per_category_es.html", "4970", "table #2 (class='table table-sm align-middle "
                                            "services-table') row 2: no price"),
], ids=["no price", "no name", "duplicate id", "option without rate", "second table"])
def test_rejections_say_why(fixture: str, service_id: str, reason: str) -> None:
    rejection = next(rejection for rejection in extract(fixture).rejected
                     if rejection.site_offer_id == service_id)
    assert reason in rejection.reason
    assert rejection.raw  # the cells as seen, for rejected_offer


def test_raw_keeps_cells_by_header_and_the_shown_price() -> None:
    offer = offers_by_id("currency_tooltip_pt.html")["911"]
    assert offer.raw["Serviço"] == "Instagram Seguidores Brasileiros [R30] [Máx 20K] ♻️"
    assert offer.raw["Preço por 1000"] == "≈ R$ 1,20"
    assert offer.raw["price_shown"] == "≈ R$ 1,20"
    assert offer.raw["category"] == "🇧🇷 Instagram Seguidores Brasileiros"


# -- invariants over every offer of every fixture ------------------------------------------------------

OFFER_FIXTURES = [page[0] for page in PAGES if page[1]]
ALL_OFFERS = [(fixture, offer) for fixture in OFFER_FIXTURES for offer in extract(fixture).offers]


@pytest.mark.parametrize(("fixture", "offer"), ALL_OFFERS,
                         ids=[f"{fixture.removesuffix('.html')}-{offer.site_offer_id}"
                              for fixture, offer in ALL_OFFERS])
def test_every_offer_is_complete_and_as_seen(fixture: str, offer: RawOffer) -> None:
    assert offer.site_offer_id and offer.site_offer_id.strip() == offer.site_offer_id
    assert offer.name.strip() and offer.name == offer.name.strip()
    assert "\n" not in offer.name and "  " not in offer.name
    assert offer.price and any(char.isdigit() for char in offer.price)
    assert offer.price not in ("View", "Details")
    assert offer.category, "every fixture puts services under a category"
    for text in (offer.min_quantity, offer.max_quantity):
        assert text is None or any(char.isdigit() for char in text)
    if offer.description is not None:
        assert offer.description.strip() == offer.description and offer.description
        assert offer.description.casefold() not in ("view", "details", "görüntüle", "ver", "xem")
        assert "\ue000" not in offer.description  # the <br> marker never leaks out
    assert offer.pricing in ("per_1000", "package")
    assert offer.source == "html"
    assert isinstance(offer.raw, dict) and offer.raw


# -- pages without a price list ------------------------------------------------------------------------

@pytest.mark.parametrize(("page", "message"), [
    ((HTML / "maintenance.html").read_bytes(),
     "no price table found on the page (title: Maintenance - BoostPanel; looks like a "
     "maintenance page)"),
    ((HTML / "cloudflare.html").read_bytes(),
     "no price table found on the page (title: Just a moment...; looks like a Cloudflare "
     "challenge page)"),
    (b"<html><head><title>Sign in</title></head><body><form><input name='LoginForm[username]'>"
     b"<input type='password' name='LoginForm[password]'></form></body></html>",
     "no price table found on the page (title: Sign in; looks like a login page)"),
    (b"<html><head><title>Deposit</title></head><body><table><tr><th>Method</th><th>Fee</th>"
     b"</tr><tr><td>Payeer</td><td>0%</td></tr></table></body></html>",
     "no price table found on the page (title: Deposit; 1 table(s), none with a service-name "
     "and a price column (table #1: no header row))"),
    (b"", "empty page (no HTML)"),
    (b"   \n ", "empty page (no HTML)"),
], ids=["maintenance", "cloudflare", "login", "unrelated table", "empty", "blank"])
def test_pages_without_a_price_list(page: bytes, message: str) -> None:
    with pytest.raises(ExtractError) as error:
        extract_services_page(page)
    assert str(error.value) == message


# -- header vocabulary ---------------------------------------------------------------------------------

HEADERS = [
    # English, as PerfectPanel themes and clones print them (also glued, as scrapers save them)
    ("ID", "site_offer_id"), ("#", "site_offer_id"), ("Service ID", "site_offer_id"),
    ("Service", "name"), ("Services", "name"), ("SERVICES", "name"), ("Name", "name"),
    ("ServiceName", "name"), ("Rate per 1000", "price"), ("Price per 1000", "price"),
    ("Rate/1000", "price"), ("RATE/1000", "price"), ("Price per 1K", "price"),
    ("Per 1000", "price"), ("Rate", "price"), ("Price($)Per1000", "price"),
    ("Rateper1000($)", "price"), ("Rate per 1000 (USD)", "price"), ("Min order", "min_quantity"),
    ("Min", "min_quantity"), ("Minimum", "min_quantity"), ("Minorder", "min_quantity"),
    ("Max order", "max_quantity"), ("Max", "max_quantity"), ("Maximum", "max_quantity"),
    ("Min / Max", "min_max"), ("Min/Maxorder", "min_max"), ("Average time", "average_time"),
    ("Avg time", "average_time"), ("Average Completion Time", "average_time"),
    ("Averagetime", "average_time"), ("Description", "description"), ("Details", "description"),
    ("Category", "category"),
    # Turkish
    ("Servis", "name"), ("Hizmet", "name"), ("Servis Adı", "name"),
    ("1000 adet fiyatı", "price"), ("Fiyat", "price"), ("Fiyat (₺)", "price"),
    ("Min sipariş", "min_quantity"), ("Min. sipariş adedi", "min_quantity"),
    ("Maks sipariş", "max_quantity"), ("Ortalama süre", "average_time"),
    ("Açıklama", "description"), ("Kategori", "category"),
    # Spanish / Portuguese
    ("Servicio", "name"), ("Serviço", "name"), ("Precio por 1000", "price"),
    ("Preço por 1000", "price"), ("Mínimo", "min_quantity"), ("Máximo", "max_quantity"),
    ("Tiempo promedio", "average_time"), ("Tempo médio", "average_time"),
    ("Descripción", "description"), ("Descrição", "description"),
    # Indonesian
    ("Layanan", "name"), ("Harga per 1000", "price"), ("Min pesan", "min_quantity"),
    ("Maks pesan", "max_quantity"), ("Waktu rata-rata", "average_time"),
    ("Deskripsi", "description"),
    # Vietnamese
    ("Dịch vụ", "name"), ("Giá mỗi 1000", "price"), ("Tối thiểu", "min_quantity"),
    ("Tối đa", "max_quantity"), ("Thời gian trung bình", "average_time"),
    ("Mô tả", "description"),
    # Russian
    ("Услуга", "name"), ("Цена за 1000", "price"), ("Мин", "min_quantity"),
    ("Макс", "max_quantity"), ("Минимальный заказ", "min_quantity"),
    ("Среднее время", "average_time"), ("Описание", "description"),
    # Arabic
    ("الخدمة", "name"), ("السعر لكل 1000", "price"), ("الحد الأدنى", "min_quantity"),
    ("الحد الأقصى", "max_quantity"), ("متوسط الوقت", "average_time"), ("الوصف", "description"),
    # French, German, Italian
    ("Prix pour 1000", "price"), ("Commande min", "min_quantity"), ("Temps moyen", "average_time"),
    ("Preis pro 1000", "price"), ("Dienst", "name"), ("Beschreibung", "description"),
    ("Prezzo per 1000", "price"), ("Servizio", "name"), ("Tempo medio", "average_time"),
    # near misses (fuzzy)
    ("Avarage time", "average_time"), ("Descripton", "description"), ("Sevice", "name"),
    # not a field
    ("", None), ("Status", None), ("Start time", None), ("Quality", None), ("Refill", None),
    ("Guarantee", None), ("Speed per day", None), ("Order", None),
]


@pytest.mark.parametrize(("header", "field"), HEADERS, ids=[header or "(blank)" for header, _ in HEADERS])
def test_classify_header(header: str, field: str | None) -> None:
    assert classify_header(header) == field


def test_every_vocabulary_entry_maps_to_its_own_field() -> None:
    for field_name, phrases in smm_html.HEADER_VOCABULARY.items():
        for phrase in phrases:
            assert classify_header(phrase) == field_name, phrase


# -- markup variants, as small inline pages -------------------------------------------------------------

def page(table: str, head: str = "") -> str:
    return f"<html><head><title>Services</title>{head}</head><body>{table}</body></html>"


HEADER_ROW = ("<thead><tr><th>ID</th><th>Service</th><th>Rate per 1000</th><th>Min order</th>"
              "<th>Max order</th><th>Description</th></tr></thead>")


def row(service_id: str, name: str, price: str = "$1.00", description: str = "") -> str:
    return (f"<tr><td>{service_id}</td><td>{name}</td><td>{price}</td><td>10</td><td>1000</td>"
            f"<td>{description}</td></tr>")


VARIANTS = [
    ("category rows with colspan", f"<table>{HEADER_ROW}<tbody>"
     "<tr><td colspan='6'><strong>Instagram Likes</strong></td></tr>" + row("1", "Likes A")
     + "<tr><td colspan='6'>Twitter</td></tr>" + row("2", "Twitter Followers") + "</tbody></table>",
     [("1", "Likes A", "Instagram Likes"), ("2", "Twitter Followers", "Twitter")]),
    ("one tbody per category with a heading row", f"<table>{HEADER_ROW}"
     "<tbody><tr><th colspan='6'>Spotify Plays</th></tr>" + row("7", "Spotify Plays [USA]")
     + "</tbody><tbody><tr><th colspan='6'>SoundCloud</th></tr>" + row("8", "SoundCloud Plays")
     + "</tbody></table>",
     [("7", "Spotify Plays [USA]", "Spotify Plays"), ("8", "SoundCloud Plays", "SoundCloud")]),
    ("category in a tbody attribute", f"<table>{HEADER_ROW}"
     "<tbody data-category-name='Twitch'>" + row("9", "Twitch Live Viewers") + "</tbody></table>",
     [("9", "Twitch Live Viewers", "Twitch")]),
    ("category in a row attribute", f"<table>{HEADER_ROW}<tbody>"
     "<tr data-filter-table-category-name='Pinterest'><td>5</td><td>Pinterest Saves</td>"
     "<td>$2</td><td>10</td><td>100</td><td></td></tr></tbody></table>",
     [("5", "Pinterest Saves", "Pinterest")]),
    ("caption as the category", f"<table><caption>LinkedIn</caption>{HEADER_ROW}<tbody>"
     + row("3", "LinkedIn Connections") + "</tbody></table>",
     [("3", "LinkedIn Connections", "LinkedIn")]),
    ("headers in td cells of the first row", "<table><tr><td><b>ID</b></td><td><b>Service</b></td>"
     "<td><b>Price</b></td></tr><tr><td colspan='3'>Discord</td></tr>"
     "<tr><td>4</td><td>Discord Members</td><td>$3</td></tr></table>",
     [("4", "Discord Members", "Discord")]),
    ("repeated header row between categories", f"<table>{HEADER_ROW}<tbody>"
     "<tr><td colspan='6'>Reddit</td></tr>" + row("11", "Reddit Upvotes")
     + "<tr><th>ID</th><th>Service</th><th>Rate per 1000</th><th>Min order</th><th>Max order</th>"
     "<th>Description</th></tr>" + row("12", "Reddit Followers") + "</tbody></table>",
     [("11", "Reddit Upvotes", "Reddit"), ("12", "Reddit Followers", "Reddit")]),
    ("extra blank star cell without a header cell", f"<table>{HEADER_ROW}<tbody>"
     "<tr><td colspan='7'>Threads</td></tr>"
     "<tr><td><i class='far fa-star'></i></td><td>21</td><td>Threads Likes</td><td>$0.5</td>"
     "<td>10</td><td>500</td><td></td></tr></tbody></table>",
     [("21", "Threads Likes", "Threads")]),
    ("hidden description row after the service row", f"<table>{HEADER_ROW}<tbody>"
     "<tr><td colspan='6'>Kick</td></tr>" + row("31", "Kick Followers")
     + "<tr class='d-none service-description-row'><td colspan='6'>Line one<br>Line two</td></tr>"
     "</tbody></table>",
     [("31", "Kick Followers", "Kick")]),
    ("russian headers", "<table><thead><tr><th>ID</th><th>Услуга</th><th>Цена за 1000</th>"
     "<th>Мин</th><th>Макс</th></tr></thead><tbody><tr><td colspan='5'>ВКонтакте</td></tr>"
     "<tr><td>41</td><td>VK Подписчики</td><td>45 ₽</td><td>100</td><td>10000</td></tr>"
     "</tbody></table>",
     [("41", "VK Подписчики", "ВКонтакте")]),
    ("arabic headers", "<table dir='rtl'><thead><tr><th>رقم</th><th>الخدمة</th>"
     "<th>السعر لكل 1000</th><th>الحد الأدنى</th><th>الحد الأقصى</th></tr></thead><tbody>"
     "<tr><td colspan='5'>انستقرام</td></tr>"
     "<tr><td>51</td><td>متابعين انستقرام عرب</td><td>$4.20</td><td>50</td><td>5000</td></tr>"
     "</tbody></table>",
     [("51", "متابعين انستقرام عرب", "انستقرام")]),
    ("material icon ligatures in headers", "<table><thead><tr>"
     "<th><i class='material-icons'>format_list_numbered</i>ID</th>"
     "<th><span class='material-icons'>storage</span>Service</th>"
     "<th><i class='material-icons'>bar_chart</i>Price per 1000</th></tr></thead><tbody>"
     "<tr><td colspan='3'>Tumblr</td></tr><tr><td>61</td><td>Tumblr Reblogs</td><td>$9</td></tr>"
     "</tbody></table>",
     [("61", "Tumblr Reblogs", "Tumblr")]),
    ("no header row: data-label cells", "<table><tbody><tr><td colspan='3'>Shazam</td></tr>"
     "<tr><td data-label='ID'>71</td><td data-label='Service'>Shazam Plays</td>"
     "<td data-label='Rate per 1000'>$1.10</td></tr></tbody></table>",
     [("71", "Shazam Plays", "Shazam")]),
    ("id only in the row attribute", "<table><thead><tr><th>Service</th><th>Price</th></tr></thead>"
     "<tbody><tr><td colspan='2'>Deezer</td></tr>"
     "<tr data-service-id='81'><td>Deezer Plays</td><td>$0.80</td></tr></tbody></table>",
     [("81", "Deezer Plays", "Deezer")]),
    ("name cell with an icon, a badge and a hidden description",
     f"<table>{HEADER_ROW}<tbody><tr><td colspan='6'>IMDB</td></tr>"
     "<tr><td>91</td><td><i class='fas fa-film'></i> IMDB Rating Votes <span class='badge'>NEW</span>"
     "<div class='d-none'>Hidden text</div></td><td>$12</td><td>10</td><td>100</td><td></td></tr>"
     "</tbody></table>",
     [("91", "IMDB Rating Votes NEW", "IMDB")]),
]


@pytest.mark.parametrize(("markup", "expected"), [variant[1:] for variant in VARIANTS],
                         ids=[variant[0] for variant in VARIANTS])
def test_markup_variants(markup: str, expected: list[tuple[str, str, str]]) -> None:
    result = extract_services_page(page(markup))
    assert [(offer.site_offer_id, offer.name, offer.category) for offer in result.offers] == expected
    assert result.rejected == []


def test_a_hidden_description_row_attaches_to_the_service_above() -> None:
    markup = (f"<table>{HEADER_ROW}<tbody>" + row("31", "Kick Followers")
              + "<tr class='d-none'><td colspan='6'>Line one<br>Line two</td></tr></tbody></table>")
    (offer,) = extract_services_page(page(markup)).offers
    assert offer.description == "Line one\nLine two"


def test_a_hidden_description_inside_the_name_cell_is_the_description() -> None:
    markup = ("<table><thead><tr><th>ID</th><th>Service</th><th>Price</th></tr></thead><tbody>"
              "<tr><td>1</td><td>Vimeo Views<div class='d-none'>Start: 1H<br>Speed: 5K/day</div>"
              "</td><td>$0.9</td></tr></tbody></table>")
    (offer,) = extract_services_page(page(markup)).offers
    assert (offer.name, offer.description) == ("Vimeo Views", "Start: 1H\nSpeed: 5K/day")


def test_a_description_in_a_modal_outside_the_table_is_found_by_its_target() -> None:
    markup = (f"<table>{HEADER_ROW}<tbody>"
              + row("5", "Audiomack Plays", description="<a href='#' data-target='#desc-5' "
                    "class='btn btn-xs'>View</a>")
              + "</tbody></table><div class='modal' id='desc-5'><div class='modal-header'>"
              "<h4 class='modal-title'>Audiomack Plays</h4></div><div class='modal-body'>"
              "<p>Real plays</p><p>No refill</p></div></div>")
    (offer,) = extract_services_page(page(markup)).offers
    assert offer.description == "Real plays\nNo refill"


def test_text_inside_cells_is_read_as_a_visitor_sees_it() -> None:
    markup = (f"<table>{HEADER_ROW}<tbody><tr><td>\n 17 \n</td><td>\n   Instagram   Likes\n"
              "   [NON DROP] <!-- old name: IG Likes --></td><td>200&nbsp;000</td><td>1 000</td>"
              "<td>10.000</td><td></td></tr></tbody></table>")
    (offer,) = extract_services_page(page(markup)).offers
    assert offer.site_offer_id == "17"
    assert offer.name == "Instagram Likes [NON DROP]"
    assert offer.price == "200\u00a0000"  # a non-breaking space stays what it is
    assert (offer.min_quantity, offer.max_quantity) == ("1 000", "10.000")


def test_select_options_with_optgroups() -> None:
    markup = ("<select name='service'><optgroup label='Instagram Likes'>"
              "<option value='12' data-rate='0.5' data-min='10' data-max='5000'>"
              "Instagram Likes [Real] - 0.5 USD</option></optgroup></select>")
    (offer,) = extract_services_page(page(markup)).offers
    assert (offer.site_offer_id, offer.name, offer.category, offer.price, offer.currency) == (
        "12", "Instagram Likes [Real]", "Instagram Likes", "0.5", "USD")


@pytest.mark.parametrize(("head", "currency"), [
    ("<meta itemprop='priceCurrency' content='EUR'>", "EUR"),
    ("<script>window.settings = {\"currency\": \"try\", \"theme\": 3};</script>", "TRY"),
    ("", None),
], ids=["meta", "inline script", "none"])
def test_page_currency_hints(head: str, currency: str | None) -> None:
    result = extract_services_page(page(f"<table>{HEADER_ROW}<tbody>{row('1', 'X')}</tbody>"
                                        "</table>", head=head))
    assert result.currency == currency


def test_a_turkish_page_in_windows_1254_is_decoded() -> None:
    markup = page("<table><thead><tr><th>ID</th><th>Servis</th><th>Fiyat</th></tr></thead>"
                  "<tbody><tr><td>1</td><td>Instagram Beğeni Türk</td><td>₺2,50</td></tr>"
                  "</tbody></table>", head="<meta charset='windows-1254'>")
    body = markup.replace("₺", "TL ").encode("windows-1254")
    (offer,) = extract_services_page(body).offers
    assert (offer.name, offer.price) == ("Instagram Beğeni Türk", "TL 2,50")


def test_text_and_bytes_give_the_same_result() -> None:
    body = (HTML / "perfectpanel_new_tr_star.html").read_bytes()
    assert extract_services_page(body) == extract_services_page(body.decode("utf-8"))


# -- real names from the dataset, rendered in a PerfectPanel table ---------------------------------------

def test_real_names_round_trip_through_a_rendered_table(smmpanels_dir: Path) -> None:
    """Real names (emoji, styled Unicode, ``&``, ``<``) rendered as a panel would escape them
    come back exactly (after the whitespace collapsing a browser does too)."""
    rows = []
    for panel in ("SMMKings", "Fivebbc", "FollowersKart"):
        path = sorted((smmpanels_dir / "raw" / panel).glob("*.csv.gz"))[-1]
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            records = list(csv.reader(handle))[1:]
        rows.extend((record[2], record[3].strip()) for record in records[:80]
                    if len(record) > 3 and record[2].strip())
    assert len(rows) >= 200
    body = "".join(
        f"<tr><td data-filter-table-service-id='{number}'>{number}</td><td>{html.escape(name)}</td>"
        f"<td>${html.escape(rate)}</td><td>10</td><td>1000</td><td></td></tr>"
        for number, (name, rate) in enumerate(rows, start=1))
    result = extract_services_page(page(f"<table>{HEADER_ROW}<tbody>{body}</tbody></table>"))
    read_back = {offer.site_offer_id: offer for offer in result.offers}
    for number, (name, rate) in enumerate(rows, start=1):
        offer = read_back[str(number)]
        assert offer.name == re.sub(r"[ \t\n\r\f]+", " ", name).strip()
        assert offer.price == f"${rate}"


# -- a big table (correctness only: timings belong to benchmarks) ----------------------------------------

BIG_NAMES = ("Instagram Followers [100K] [NON DROP] [R30] [1H - 3K/Day] ⚡♻🔥",
             "TikTok Followers | Non Drop | Fast | HQ &amp;amp; Data Real | 20K - 50K/Day",
             "🇧🇷 Youtube Views | 1M | BRAZIL | 1H - 10K+/Day |",
             "Telegram Members [Refill: 7D] [Start Time: 0 - 1 Hr] [Max: 30K] 💧⛔")


def build_big_services_page(rows: int = 2000, *, per_category: int = 25,
                            descriptions: str = "modal") -> str:
    """A PerfectPanel classic-theme page with ``rows`` services, a category row every
    ``per_category`` rows and, per service, a description in a modal (``"modal"``: the heavy
    real-world markup, ~1.1 KB per row) or in a hidden div (``"hidden"``). Used by the
    benchmark of the extractor and by the test below."""
    parts = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>Services</title></head>'
             '<body><table class="table" id="service-table"><thead><tr><th>ID</th>'
             '<th>Service</th><th>Rate per 1000</th><th>Min order</th><th>Max order</th>'
             '<th>Average time</th><th>Description</th></tr></thead><tbody>']
    for number in range(rows):
        if number % per_category == 0:
            parts.append(f'<tr data-filter-table-category-id="{number // per_category}">'
                         f'<td colspan="7"><strong>Category {number // per_category}</strong>'
                         '</td></tr>')
        service_id = 1000 + number
        name = BIG_NAMES[number % len(BIG_NAMES)]
        if descriptions == "hidden":
            description = ('<button class="btn btn-xs">View</button><div class="d-none">'
                           'Start Time: 0 - 1H<br>Speed: 1-3K/Day</div>')
        else:
            description = (
                '<div class="service-description__btn"><button type="button" class="btn btn-xs '
                f'btn-default" data-toggle="modal" data-target="#service-description-id-{service_id}">'
                f'View</button></div><div class="modal fade" tabindex="-1" role="dialog" '
                f'id="service-description-id-{service_id}"><div class="modal-dialog" role="document">'
                '<div class="modal-content"><div class="modal-header"><button type="button" '
                'class="close" data-dismiss="modal"><span aria-hidden="true">&times;</span></button>'
                f'<h4 class="modal-title">{name}</h4></div><div class="modal-body">Start Time: 0 - 1H'
                '<br>Speed: 1-3K/Day</div><div class="modal-footer"><button type="button" '
                'class="btn btn-default" data-dismiss="modal">Close</button></div></div></div></div>')
        parts.append(
            f'<tr data-filter-table-category-id="{number // per_category}">'
            f'<td data-filter-table-service-id="{service_id}">{service_id}</td>'
            f'<td class="service-name">{name} #{number}</td>'
            f'<td>\n  ${number % 97 + 0.25:.4f}\n</td><td>{10 * (number % 5 + 1)}</td>'
            f'<td>100000</td><td class="nowrap">{number % 90} hours {number % 60} minutes</td>'
            f'<td class="service-description">{description}</td></tr>')
    parts.append("</tbody></table></body></html>")
    return "".join(parts)


@pytest.mark.parametrize("descriptions", ["modal", "hidden"])
def test_a_2000_row_table_is_read_completely(descriptions: str) -> None:
    result = extract_services_page(build_big_services_page(2000, descriptions=descriptions).encode())
    assert len(result.offers) == 2000 and result.rejected == []
    last = result.offers[-1]
    assert (last.site_offer_id, last.category, last.price) == ("2999", "Category 79", "$59.2500")
    assert last.name == "Telegram Members [Refill: 7D] [Start Time: 0 - 1 Hr] [Max: 30K] 💧⛔ #1999"
    assert last.description == "Start Time: 0 - 1H\nSpeed: 1-3K/Day"
    assert any("2000 service rows, 80 category rows" in note for note in result.notes)


def test_blank_spacer_rows_are_counted_not_rejected() -> None:
    markup = (f"<table>{HEADER_ROW}<tbody>" + row("1", "Quora Upvotes")
              + "<tr><td></td><td> </td><td></td><td></td><td></td><td></td></tr></tbody></table>")
    result = extract_services_page(page(markup))
    assert [offer.site_offer_id for offer in result.offers] == ["1"]
    assert result.rejected == []
    assert "1 blank rows skipped" in result.notes


def test_a_first_data_row_is_never_taken_for_the_header() -> None:
    # No header row and no data-label: the first row names "Services" and a rate column by
    # accident; mapping it would shift every value, so the page has no readable price table.
    markup = ("<table><tr><td>1</td><td>Instagram Services Pack</td><td>1000</td></tr>"
              "<tr><td>2</td><td>TikTok Likes</td><td>$0.5</td></tr></table>")
    with pytest.raises(ExtractError, match="no price table found"):
        extract_services_page(page(markup))


def test_line_breaks_in_attribute_values_do_not_leak_into_one_line_fields() -> None:
    markup = ("<select id='service'><option value='3' data-rate='1.5' data-min='1' "
              "data-max='9' data-category='Mixcloud'>Mixcloud<br>Plays</option></select>")
    (offer,) = extract_services_page(page(markup)).offers
    assert offer.name == "Mixcloud Plays"


def test_a_page_title_above_a_single_table_is_not_a_category() -> None:
    markup = ("<h1 class='page-title'>Services</h1><table><thead><tr><th>ID</th><th>Service</th>"
              "<th>Price</th></tr></thead><tbody><tr><td>1</td><td>Twitch Followers</td>"
              "<td>$2</td></tr></tbody></table>")
    (offer,) = extract_services_page(page(markup)).offers
    assert offer.category is None
