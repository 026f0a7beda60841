"""The `clickfarm` command: a thin layer over crawlers/, pipelines/, storage/, reports/, simulator/.

This module only assembles the app: the commands live in the cli_* modules, what they
share in clickfarm/options.py."""

from __future__ import annotations

import typer

from clickfarm import (
    cli_alerts,
    cli_crawl,
    cli_discovery,
    cli_import,
    cli_market,
    cli_report_html,
    cli_resellers,
    cli_service,
    cli_worker,
)
from clickfarm.options import ClickfarmGroup, main_options

app = typer.Typer(help="Monitor the market for fake social-media engagement.",
                  no_args_is_help=True, pretty_exceptions_enable=False, cls=ClickfarmGroup)
app.callback()(main_options)
for commands in (cli_crawl.app, cli_alerts.app, cli_discovery.app, cli_market.app, cli_resellers.app,
                 cli_report_html.app, cli_service.app, cli_import.app, cli_worker.app):
    app.add_typer(commands)

if __name__ == "__main__":
    app()
