"""The rule for a commitment partly met (+2) joins every version that lacks it; a new kind
of rule, so no graded number changes."""

from django.db import migrations

from members.ledger.defaults import COMMITMENT_CODES, install_default_rule_rows


def add(apps, schema_editor):
    RuleSetVersion = apps.get_model("ledger", "RuleSetVersion")
    Rule = apps.get_model("ledger", "Rule")
    for version in RuleSetVersion.objects.all():
        have = set(Rule.objects.filter(version=version, code__in=COMMITMENT_CODES).values_list("code", flat=True))
        missing = [code for code in COMMITMENT_CODES if code not in have]
        if missing:
            install_default_rule_rows(apps, version, codes=missing)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_members_year")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
