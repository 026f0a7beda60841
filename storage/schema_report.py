"""What ``clickfarm db migrate`` did: the revisions applied and the tables and views they
created or removed, or that the database was already at the latest revision."""

from __future__ import annotations

from dataclasses import dataclass, field

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from storage.db import alembic_config, current_revision, head_revision, migrate


@dataclass
class MigrationReport:
    before: str | None
    after: str | None
    applied: list[str] = field(default_factory=list)
    """Revisions applied, oldest first."""
    tables_created: list[str] = field(default_factory=list)
    views_created: list[str] = field(default_factory=list)
    tables_removed: list[str] = field(default_factory=list)
    views_removed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if not self.applied:
            return [f"already at revision {self.after} (the latest): nothing to apply"]
        start = "an empty database" if self.before is None else f"revision {self.before}"
        lines = [f"applied {len(self.applied)} migration(s) to {start}: "
                 f"{', '.join(self.applied)}; now at revision {self.after}"]
        for what, names in (("tables created", self.tables_created),
                            ("views created", self.views_created),
                            ("tables removed", self.tables_removed),
                            ("views removed", self.views_removed)):
            if names:
                lines.append(f"{what} ({len(names)}): {', '.join(names)}")
        if len(lines) == 1:
            lines.append("no table or view created or removed (columns, indexes or view "
                         "definitions changed)")
        return lines


def _schema(engine: Engine) -> tuple[set[str], set[str]]:
    inspector = inspect(engine)
    # Alembic's own bookkeeping table is not part of the schema a user asked for.
    return (set(inspector.get_table_names()) - {"alembic_version"},
            set(inspector.get_view_names()))


def migrate_and_report(engine: Engine) -> MigrationReport:
    """Upgrade to the latest revision (:func:`storage.db.migrate`) and say what changed."""
    before = current_revision(engine)
    tables_before, views_before = _schema(engine)
    migrate(engine)
    after = current_revision(engine)
    tables_after, views_after = _schema(engine)
    applied: list[str] = []
    if after != before:
        script = ScriptDirectory.from_config(alembic_config())
        # iterate_revisions walks from the upper revision down to the lower one.
        applied = [revision.revision for revision in
                   script.iterate_revisions(after or head_revision(), before)][::-1]
    return MigrationReport(
        before=before, after=after, applied=applied,
        tables_created=sorted(tables_after - tables_before),
        views_created=sorted(views_after - views_before),
        tables_removed=sorted(tables_before - tables_after),
        views_removed=sorted(views_before - views_after))
