"""Re-run a data migration's operations inside a test.

Migration data (schedules, default rows) is wiped by the flush that ends every
transactional test, so a test that merely looks for it depends on test order. Instead,
such tests unapply and re-apply the migration through Django's loader — the operations
the migration declares, with its historical models — and check what it leaves.
"""

from django.db import connection
from django.db.migrations.loader import MigrationLoader


def run_migration(key: tuple[str, str], *, forwards: bool) -> None:
    loader = MigrationLoader(connection)
    assert key in loader.applied_migrations
    migration = loader.graph.nodes[key]
    with connection.schema_editor() as editor:
        if forwards:
            migration.apply(loader.project_state(key, at_end=False), editor)
        else:
            migration.unapply(loader.project_state(key, at_end=True), editor)
