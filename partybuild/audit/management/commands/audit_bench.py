"""``manage.py audit_bench``: what the audit triggers cost a bulk write.

In one transaction that is rolled back at the end, inserts N organisation units (a
tracked table) with one ``bulk_create``, updates all of them with one ``UPDATE`` and
deletes them with one ``DELETE``, each with the audit triggers on and, as the baseline
measured in the same run, with them disabled (``ALTER TABLE … DISABLE TRIGGER USER``,
inside the transaction). Prints the median of each and the ratio. PostgreSQL only;
writes nothing that survives the run.
"""

import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from branches.models import OrgUnit


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Measure the audit triggers' overhead on bulk insert, update and delete (PostgreSQL; rolled back)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10_000)
        parser.add_argument("--repeat", type=int, default=3)

    def handle(self, *args, rows: int, repeat: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The audit triggers exist on PostgreSQL only: set DATABASE_URL.")
        table = connection.ops.quote_name(OrgUnit._meta.db_table)
        timings: dict[tuple[str, bool], list[float]] = {}
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # Deferred foreign-key checks would keep ALTER TABLE waiting.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for round_ in range(repeat):
                    for audited in (True, False) if round_ % 2 == 0 else (False, True):
                        with transaction.atomic():
                            with connection.cursor() as cursor:
                                cursor.execute(f"ALTER TABLE {table} {'ENABLE' if audited else 'DISABLE'} TRIGGER USER")
                            for step, seconds in self._round(rows, f"{round_}{int(audited)}").items():
                                timings.setdefault((step, audited), []).append(seconds)
                raise Rollback
        except Rollback:
            pass
        self.stdout.write(f"{rows} rows of {OrgUnit._meta.db_table}, median of {repeat} runs (rolled back)")
        self.stdout.write(f"{'statement':<10} {'no audit':>10} {'audited':>10} {'ratio':>7} {'per row':>10}")
        for step in ("insert", "update", "delete"):
            base = statistics.median(timings[step, False])
            audited = statistics.median(timings[step, True])
            self.stdout.write(
                f"{step:<10} {base * 1000:>8.0f}ms {audited * 1000:>8.0f}ms {audited / base:>6.1f}x "
                f"{(audited - base) / rows * 1e6:>7.1f} µs"
            )

    def _round(self, rows: int, tag: str) -> dict[str, float]:
        units = [
            OrgUnit(kind=OrgUnit.Kind.COMMITTEE, name=f"基准{i}", code=f"audit-bench-{tag}-{i}", path=f"/b{tag}-{i}/")
            for i in range(rows)
        ]
        out = {}
        started = time.perf_counter()
        OrgUnit.objects.bulk_create(units, batch_size=5000)
        out["insert"] = time.perf_counter() - started
        bench = OrgUnit.objects.filter(code__startswith=f"audit-bench-{tag}-")
        started = time.perf_counter()
        bench.update(sort_order=7, brand="基准")
        out["update"] = time.perf_counter() - started
        started = time.perf_counter()
        bench._raw_delete(bench.db)
        out["delete"] = time.perf_counter() - started
        return out
