"""The project rules join every version that lacks them (攻关项目 nodes, the year-end
grades, the value bands), and the bands get their thresholds. They are new kinds of
rule: no graded month had entries of them, so no graded number changes."""

from decimal import Decimal

from django.db import migrations

from members.ledger.defaults import DEFAULT_THRESHOLDS, PROJECT_CODES, install_default_rule_rows


def add(apps, schema_editor):
    RuleSetVersion = apps.get_model("ledger", "RuleSetVersion")
    Rule = apps.get_model("ledger", "Rule")
    for version in RuleSetVersion.objects.all():
        have = set(Rule.objects.filter(version=version).values_list("code", flat=True))
        missing = [code for code in PROJECT_CODES if code not in have]
        if missing:
            install_default_rule_rows(apps, version, codes=missing)
    # A fresh installation's first version got the rules before thresholds existed.
    for code, threshold in DEFAULT_THRESHOLDS.items():
        Rule.objects.filter(code=code, threshold__isnull=True, version__rule_set__committee__isnull=True).filter(
            version__in=RuleSetVersion.objects.exclude(pk__in=_graded(apps))
        ).update(threshold=Decimal(threshold))


def _graded(apps):
    GradingRun = apps.get_model("grading", "GradingRun")
    return GradingRun.objects.filter(rule_version__isnull=False).values("rule_version_id")


def remove(apps, schema_editor):
    pass  # the rules stay: entries may name them


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_source_steps_and_bands"), ("grading", "0007_scoreinput_mark_lifted")]

    operations = [migrations.RunPython(add, remove)]
