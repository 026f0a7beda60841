"""`clickfarm sites ...`, `clickfarm discover`, `clickfarm detect URL`."""

from __future__ import annotations

import typer

from clickfarm.cli import SitesOption, app, console, fail
from clickfarm.config import ConfigError, load_sites

sites_app = typer.Typer(help="The sites: configured, discovered, promoted.",
                        invoke_without_command=True)
app.add_typer(sites_app, name="sites")


@sites_app.callback()
def sites_list(ctx: typer.Context, sites_file: SitesOption = None) -> None:
    """The configured sites."""
    if ctx.invoked_subcommand is not None:
        return
    from reports.render import print_table

    try:
        sites = load_sites(sites_file)
    except ConfigError as error:
        fail(str(error))
    print_table(console, "sites", ["id", "family", "currency", "url", "enabled"],
                [[s.id, s.family, s.currency or "-", s.url, s.enabled] for s in sites],
                text_columns=5)
