"""HTML of the simulated panels: ``/services`` in three themes, landing pages, small pages.

Themes, modelled on FORMATS.md section 2:

- ``pp_classic``: old PerfectPanel theme. Category rows
  ``<tr data-filter-table-category-id="7"><td colspan="6"><strong>...</strong></td></tr>``,
  ``data-filter-table-service-id`` on the ID cell, description in ``div.d-none`` with ``<br>``
  behind a "View" button.
- ``pp_modern``: newer PerfectPanel theme. ``tr.services-list-category-title`` with
  ``<td colspan="100%"><div><h4><span>...</span></h4></div></td>``, ``data-label`` on cells, an
  optional favourite-star first column (shifts every index), translated or renamed headers.
- ``smartpanel``: SmartPanel-like PHP script. ``<tbody id="service-body">``, ``sv-*`` cell
  classes, category rows ``tr.category-header``.

All functions are pure (market state in, text out) and are called with ``market.lock`` held.
Every displayed rate has exactly the panel's decimals, so page value == API value.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from simulator.market import Market, Service, Site

HEADER_SETS: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "en": ("ID", "Service", "Rate per 1000", "Min order", "Max order", "Average time", "Description"),
    "en_renamed": ("ID", "Service", "Price per 1K", "Minimum", "Maximum", "Avg. time", "Details"),
    "en_caps": ("ID", "SERVICES", "RATE/1000", "MIN", "MAX", "AVERAGE TIME", "DESCRIPTION"),
    "tr": ("ID", "Servis", "1000 adet fiyatı", "Min sipariş", "Maks sipariş", "Ortalama süre", "Açıklama"),
    "es": ("ID", "Servicio", "Precio por 1000", "Pedido mínimo", "Pedido máximo", "Tiempo promedio", "Descripción"),
    "pt": ("ID", "Serviço", "Preço por 1000", "Pedido mínimo", "Pedido máximo", "Tempo médio", "Descrição"),
    "id": ("ID", "Layanan", "Harga per 1000", "Min Pesan", "Maks Pesan", "Waktu rata-rata", "Deskripsi"),
}  # fmt: skip
VIEW_LABEL = {"tr": "Görüntüle", "es": "Ver", "pt": "Ver", "id": "Lihat"}
ORDER_COUNTER_LABELS = {
    "en": ("Total Orders", "Orders Completed", "Orders Completed", "Orders processed"),
    "tr": ("Toplam Sipariş", "Tamamlanan Sipariş", "Tamamlanan Sipariş", "İşlenen Sipariş"),
    "es": ("Pedidos totales", "Pedidos completados", "Pedidos completados", "Pedidos procesados"),
    "pt": ("Pedidos totais", "Pedidos concluídos", "Pedidos concluídos", "Pedidos processados"),
    "id": ("Total Pesanan", "Pesanan Selesai", "Pesanan Selesai", "Pesanan Diproses"),
}  # fmt: skip
ROBOTS_TXT = "User-agent: *\nDisallow:\n"
UNKNOWN_CURRENCY_SYMBOL = "¤"


def site_path(site: Site) -> str:
    return f"/s/{site.site_id}"


def _escape_text(site: Site, text: str) -> str:
    escaped = html.escape(text, quote=False)
    if site.api_style.stores_escaped_names:
        # the panel stores names already escaped and escapes again on output: &amp;amp;
        escaped = html.escape(escaped, quote=False)
    return escaped


def _description_html(text: str) -> str:
    return "<br>".join(html.escape(line, quote=False) for line in text.split("\n"))


def _language(site: Site) -> str:
    return site.page_style.header_set if site.page_style.header_set in VIEW_LABEL else "en"


# --- Page skeletons --------------------------------------------------------------------------


def _head(site: Site, title: str) -> str:
    style = site.page_style
    if site.theme == "smartpanel":
        assets = (
            f'<link rel="stylesheet" href="{site_path(site)}/assets/css/bootstrap.min.css">\n'
            f'<link rel="stylesheet" href="{site_path(site)}/assets/css/smartpanel.css?v={style.asset_hash[:6]}">'
        )
    else:
        assets = (
            f'<link rel="stylesheet" href="https://cdn.mypanel.link/libs/bootstrap/3.3.7/css/bootstrap.min.css">\n'
            f'<link rel="stylesheet" href="https://cdn.mypanel.link/{style.asset_hash[:6]}/{style.asset_hash}.css">'
        )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_language(site)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)} - {html.escape(site.brand)}</title>\n{assets}\n</head>\n"
    )


def _nav(site: Site) -> str:
    base = site_path(site)
    return (
        '<nav class="navbar navbar-default navbar-static-top"><div class="container">'
        f'<a class="navbar-brand" href="{base}/">{html.escape(site.brand)}</a>'
        '<ul class="nav navbar-nav navbar-right">'
        f'<li><a href="{base}/">Sign in</a></li>'
        f'<li><a href="{base}/services">Services</a></li>'
        f'<li><a href="{base}/api">API</a></li>'
        f'<li><a href="{base}/signup">Sign up</a></li>'
        "</ul></div></nav>\n"
    )


def _foot(site: Site) -> str:
    if site.theme == "smartpanel":
        scripts = f'<script src="{site_path(site)}/assets/js/jquery.min.js"></script>'
    else:
        scripts = (
            '<script src="https://cdn.mypanel.link/libs/jquery/1.12.4/jquery.min.js"></script>\n'
            f'<script src="https://cdn.mypanel.link/{site.page_style.asset_hash[:6]}/js/app.js"></script>'
        )
    return f"{scripts}\n</body>\n</html>\n"


# --- /services -------------------------------------------------------------------------------


def render_services_page(
    market: Market, site: Site, *, faults: frozenset[str] = frozenset(), theme: str | None = None
) -> str:
    """Today's public price list of ``site`` (``theme`` overrides the site's own)."""
    if "no_table" in faults:
        return render_maintenance_page(site)
    services = [] if "empty_list" in faults else market.active_services(site.site_id)
    overrides = market.bad_value_overrides(site.site_id) if "bad_values" in faults else {}
    symbol = UNKNOWN_CURRENCY_SYMBOL if "unknown_currency" in faults else None
    theme = theme or site.theme
    columns = _columns(site, theme)
    rows = _render_rows(site, theme, columns, services, overrides, symbol)
    headers = HEADER_SETS[site.page_style.header_set]
    header_cells = "".join(_header_cell(theme, column, headers) for column in columns)
    body = _head(site, "Services") + '<body class="body services-page">\n' + _nav(site)
    filters = _category_filter(site, theme, services)
    if theme == "pp_classic":
        table = (
            '<div class="well well-float"><div class="row"><div class="col-md-12">\n'
            f"{filters}"
            '<table class="table" id="service-table">\n'
            f"<thead><tr>{header_cells}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
            "</div></div></div>\n"
        )
    elif theme == "pp_modern":
        table = (
            '<div class="services-list"><div class="component_card">\n'
            f"{filters}"
            '<div class="table-responsive"><table class="table table-borderless services-table">\n'
            f"<thead><tr>{header_cells}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table></div>\n"
            "</div></div>\n"
        )
    else:
        table = (
            '<div class="card"><div class="card-header"><h4 class="card-title">Services</h4></div>\n'
            '<div class="card-body"><table class="table table-hover table-bordered">\n'
            f'<thead class="thead-light"><tr>{header_cells}</tr></thead>\n'
            f'<tbody id="service-body">\n{rows}</tbody>\n</table></div></div>\n'
        )
    return body + f'<div class="container">\n{table}</div>\n' + _foot(site)


def _columns(site: Site, theme: str) -> list[str]:
    style = site.page_style
    columns = ["star"] if theme == "pp_modern" and style.favourite_star else []
    columns += ["id", "service", "rate", "min", "max"]
    if style.show_average_time:
        columns.append("time")
    if style.show_description:
        columns.append("desc")
    return columns


_HEADER_INDEX = {"id": 0, "service": 1, "rate": 2, "min": 3, "max": 4, "time": 5, "desc": 6}
_SMART_CLASSES = {"id": "sv-id", "service": "sv-name", "rate": "sv-rate", "min": "sv-min",
                  "max": "sv-max", "time": "sv-time", "desc": "sv-desc"}  # fmt: skip


def _header_cell(theme: str, column: str, headers: tuple[str, ...]) -> str:
    if column == "star":
        return '<th class="service-favorite"></th>'
    text = html.escape(headers[_HEADER_INDEX[column]])
    if theme == "smartpanel":
        return f'<th scope="col">{text}</th>'
    if column == "time":
        return (
            f'<th class="nowrap">{text} <span class="fa fa-info-circle" data-toggle="tooltip" '
            'title="The average time is based on 10 latest completed orders per 1000 quantity">'
            "</span></th>"
        )
    return f"<th>{text}</th>"


def _category_filter(site: Site, theme: str, services: list[Service]) -> str:
    if theme == "smartpanel":
        return ""
    seen: dict[str, int] = {}
    for service in services:
        seen.setdefault(service.category, site.category_order[service.category] + 1)
    options = "".join(
        f'<option value="{category_id}">{_escape_text(site, name)}</option>'
        for name, category_id in seen.items()
    )
    return (
        '<div class="form-group"><input type="text" class="form-control" id="filter-search" '
        'placeholder="Search"><select class="form-control" id="filter-category">'
        f'<option value="">All</option>{options}</select></div>\n'
    )


def _render_rows(
    site: Site,
    theme: str,
    columns: list[str],
    services: Iterable[Service],
    overrides: dict[str, dict[str, str]],
    symbol: str | None,
) -> str:
    style = site.page_style
    headers = HEADER_SETS[style.header_set]
    view = VIEW_LABEL.get(style.header_set, "View")
    out: list[str] = []
    current_category: str | None = None
    for service in services:
        if service.category != current_category:
            current_category = service.category
            category_id = site.category_order[service.category] + 1
            out.append(_category_row(site, theme, category_id, service.category, len(columns)))
        category_id = site.category_order[service.category] + 1
        override = overrides.get(service.service_id, {})
        sid = service.service_id
        if "rate" in override:
            rate_text = style.money.decorate(override["rate"], symbol=symbol)
        else:
            rate_text = style.money.format(service.rate, site.decimals, symbol=symbol)
        values = {
            "id": sid,
            "service": _escape_text(site, service.name),
            "rate": html.escape(rate_text, quote=False),
            "min": override.get("min") or style.format_quantity(service.min_quantity),
            "max": override.get("max") or style.format_quantity(service.max_quantity),
            "time": html.escape(service.average_time, quote=False),
        }
        cells = []
        for column in columns:
            cells.append(_cell(theme, column, sid, values, headers, service, view))
        if theme == "smartpanel":
            out.append(f'<tr class="service-item" data-service-id="{sid}">{"".join(cells)}</tr>\n')
        else:
            out.append(f'<tr data-filter-table-category-id="{category_id}">{"".join(cells)}</tr>\n')
    return "".join(out)


def _category_row(site: Site, theme: str, category_id: int, name: str, width: int) -> str:
    text = _escape_text(site, name)
    if theme == "pp_classic":
        return (
            f'<tr data-filter-table-category-id="{category_id}">'
            f'<td colspan="{width}"><strong>{text}</strong></td></tr>\n'
        )
    if theme == "pp_modern":
        return (
            f'<tr class="services-list-category-title" data-filter-table-category-id="{category_id}">'
            f'<td colspan="100%"><div><h4><span>{text}</span></h4></div></td></tr>\n'
        )
    return (
        f'<tr class="category-header"><td colspan="{width}" class="category-name">'
        f"<b>{text}</b></td></tr>\n"
    )


def _cell(
    theme: str,
    column: str,
    sid: str,
    values: dict[str, str],
    headers: tuple[str, ...],
    service: Service,
    view: str,
) -> str:
    if theme == "smartpanel":
        klass = _SMART_CLASSES[column]
        if column == "desc":
            return (
                f'<td class="{klass}"><a href="javascript:void(0)" class="desc-toggle" '
                f'data-id="{sid}">Details</a><div class="desc-box" style="display:none">'
                f"{_description_html(service.description)}</div></td>"
            )
        return f'<td class="{klass}">{values[column]}</td>'
    if column == "star":
        return (
            '<td class="services-list__favorite">'
            f'<span class="far fa-star favorite-icon" data-favorite-service-id="{sid}"></span></td>'
        )
    label = ""
    if theme == "pp_modern":
        label = f' data-label="{html.escape(headers[_HEADER_INDEX[column]])}"'
    if column == "id":
        return f'<td{label} data-filter-table-service-id="{sid}">{sid}</td>'
    if column == "desc":
        if theme == "pp_modern":
            button = (
                f'<button class="btn btn-actions btn-view-service-description" '
                f'data-service-id="{sid}">{view}</button>'
            )
            content_class = "d-none service-description__content"
        else:
            button = (
                f'<button type="button" class="btn btn-default btn-xs" data-toggle="modal" '
                f'data-target="#service-description-{sid}">{view}</button>'
            )
            content_class = "d-none"
        return (
            f'<td{label} class="service-description">{button}'
            f'<div class="{content_class}" id="service-description-{sid}">'
            f"{_description_html(service.description)}</div></td>"
        )
    if column == "service":
        return f'<td{label} class="service-name">{values[column]}</td>'
    return f"<td{label}>{values[column]}</td>"


# --- Landing page ----------------------------------------------------------------------------


def render_landing_page(
    market: Market, site: Site, *, faults: frozenset[str] = frozenset(), partners: str = ""
) -> str:
    """``/``: hero, public counters, login form (PerfectPanel or SmartPanel fingerprints);
    ``partners`` is the "Partners" block (``directories.partners_html``) of the sellers that
    link others."""
    style = site.page_style
    counters = market.counters(site.site_id)
    claimed = counters["orders"]
    orders = claimed or 0
    language = _language(site) if _language(site) in ORDER_COUNTER_LABELS else "en"
    label = ORDER_COUNTER_LABELS[language][style.counter_style]
    if style.counter_style == 0:
        order_block = f'<h2 class="counter" data-count="{orders}">{orders:,}</h2><p>{label}</p>'
    elif style.counter_style == 1:
        # animated counter: the final value only in the data attribute, text starts at 0
        order_block = (
            f'<span class="count-number" data-to="{orders}" data-speed="3000">0</span>'
            f'<span class="count-label">{label}</span>'
        )
    elif style.counter_style == 2:
        order_block = (
            f'<div class="stat__value">{orders}+</div><div class="stat__label">{label}</div>'
        )
    else:
        order_block = (
            f'<span class="odometer" id="orders-counter">0</span><p>{label}</p>\n'
            f"<script>var ordersCompleted = {orders};\n"
            "document.addEventListener('DOMContentLoaded', function () {"
            " document.getElementById('orders-counter').innerHTML = ordersCompleted; });</script>"
        )
    # a panel that claims no orders counter shows none (``CounterClaim.shown``)
    blocks = [] if claimed is None else [f'<div class="col-md-4 stats-item">{order_block}</div>']
    if style.show_customers:
        blocks.append(
            '<div class="col-md-4 stats-item"><h3><span class="counter">'
            f"{counters['customers']}</span>+</h3><p>Happy Clients</p></div>"
        )
    if style.show_starting_price:
        symbol = style.money.symbol if style.money.position != "none" else "$"
        blocks.append(
            f'<div class="col-md-4 stats-item"><h3>{html.escape(symbol)}0.001/1K</h3>'
            "<p>Starting Price</p></div>"
        )
    base = site_path(site)
    if site.theme == "smartpanel":
        login = (
            f'<form class="form-signin" action="{base}/auth/login" method="POST">'
            f'<input type="hidden" name="csrf_token" value="{style.asset_hash}">'
            '<input type="text" class="form-control" name="username" placeholder="Username">'
            '<input type="password" class="form-control" name="password" placeholder="Password">'
            '<button type="submit" class="btn btn-primary">Login</button></form>'
        )
        powered = '<p class="powered">Powered by SmartPanel</p>'
    else:
        login = (
            f'<form method="post" action="{base}/" id="login-form">'
            f'<input type="hidden" name="_csrf" value="{style.asset_hash}{site.index:04d}">'
            '<input type="text" class="form-control" id="login" name="LoginForm[username]">'
            '<input type="password" class="form-control" id="password" name="LoginForm[password]">'
            '<label><input type="checkbox" name="LoginForm[remember]" value="1"> Remember me</label>'
            '<button type="submit" class="btn btn-primary">Sign in</button></form>'
            f'<a href="{base}/resetpassword">Forgot password?</a>'
        )
        powered = ""
    return (
        _head(site, "Cheapest SMM Panel")
        + '<body class="body landing">\n'
        + _nav(site)
        + '<div class="container">\n<div class="row hero"><div class="col-md-7">'
        f"<h1>{html.escape(site.brand)} - The Best &amp; Cheapest SMM Panel</h1>"
        "<p>Instagram, TikTok, YouTube, Spotify and more: instant start, real results.</p>"
        f'<a class="btn btn-lg btn-primary" href="{base}/signup">Sign up</a> '
        f'<a class="btn btn-lg btn-default" href="{base}/services">Services</a>'
        f'</div><div class="col-md-5">{login}</div></div>\n'
        f'<div class="row stats">{"".join(blocks)}</div>\n'
        f"{powered}{partners}</div>\n" + _foot(site)
    )


# --- Small pages -----------------------------------------------------------------------------


def render_maintenance_page(site: Site) -> str:
    return (
        _head(site, "Maintenance")
        + '<body class="maintenance"><div class="container"><h1>We\'ll be back soon!</h1>'
        "<p>Our website is currently undergoing scheduled maintenance. "
        "Please check back in a few minutes.</p></div>\n" + _foot(site)
    )


def render_api_docs_page(site: Site) -> str:
    base = site_path(site)
    return (
        _head(site, "API")
        + '<body class="body">\n'
        + _nav(site)
        + '<div class="container"><h2>API</h2><table class="table">'
        f"<tr><td>HTTP Method</td><td>POST</td></tr>"
        f"<tr><td>API URL</td><td>{base}/api/v2</td></tr>"
        "<tr><td>API Key</td><td>Get an API key on the Account page</td></tr>"
        "<tr><td>Response format</td><td>JSON</td></tr></table>"
        '<h4>Service list</h4><table class="table"><tr><th>Parameters</th><th>Description</th></tr>'
        "<tr><td>key</td><td>Your API key</td></tr><tr><td>action</td><td>services</td></tr></table>"
        '<pre>[{"service": 1, "name": "Followers", "type": "Default", "category": "First Category", '
        '"rate": "0.90", "min": "50", "max": "10000", "refill": true, "cancel": true}]</pre>'
        "</div>\n" + _foot(site)
    )


def render_signup_page(site: Site) -> str:
    return (
        _head(site, "Sign up")
        + '<body class="body">\n'
        + _nav(site)
        + '<div class="container"><h2>Sign up</h2><form method="post">'
        '<input type="text" name="SignupForm[login]"><input type="email" name="SignupForm[email]">'
        '<input type="password" name="SignupForm[password]"><button type="submit">Sign up</button>'
        "</form></div>\n" + _foot(site)
    )


def render_directory_page(market: Market) -> str:
    """The server root: a "best SMM panels" list linking every simulated site (for discovery)."""
    items = "".join(
        f'<li><a href="{site_path(site)}/">{html.escape(site.brand)}</a> - '
        f"{len(market.active_services(site.site_id))} services</li>"
        for site in market.sites.values()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Best SMM Panels 2026 - simulated market</title></head>"
        f'<body><h1>Best SMM Panels</h1><ul class="panel-list">{items}</ul></body></html>\n'
    )
