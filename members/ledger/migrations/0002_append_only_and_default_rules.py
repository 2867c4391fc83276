"""The ledger's database guard and the default rule set of PRODUCT.md's appendix."""

from django.db import migrations

from members.ledger import defaults

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: %% of entry %% refused; record a reversing entry instead',
        TG_OP, OLD.id USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON ledger_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only();
"""
DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_ledgerentry;
DROP FUNCTION IF EXISTS ledger_entry_append_only();
"""


def add_trigger(apps, schema_editor):
    # The SQL goes through the driver's parameter substitution, hence %% for RAISE's %.
    # Row-level triggers leave TRUNCATE alone, so test flushes and a deliberate reset work.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER_SQL)


def install_default_rules(apps, schema_editor):
    defaults.install_default_rules(apps)


def remove_default_rules(apps, schema_editor):
    RuleSet = apps.get_model("ledger", "RuleSet")
    Rule = apps.get_model("ledger", "Rule")
    RuleSetVersion = apps.get_model("ledger", "RuleSetVersion")
    Rule.objects.filter(version__rule_set__committee__isnull=True).delete()
    for later in ("MeetingRequirement", "ScoreItem"):  # models of later migrations, when present
        try:
            apps.get_model("ledger", later).objects.filter(version__rule_set__committee__isnull=True).delete()
        except LookupError:
            pass
    RuleSetVersion.objects.filter(rule_set__committee__isnull=True).delete()
    RuleSet.objects.filter(committee__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(add_trigger, drop_trigger),
        migrations.RunPython(install_default_rules, remove_default_rules),
    ]
