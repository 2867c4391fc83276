"""Every existing version gets the default meeting requirements, which until now were
fixed in code (``branches.activities.compliance``): the same 三会一课 and 主题党日,
plus the yearly 组织生活会 and 民主评议党员 due by December, which counted for nothing
before. Published months keep their published numbers (they are append-only)."""

from django.db import migrations

from members.ledger.defaults import install_default_requirements


def add(apps, schema_editor):
    RuleSetVersion = apps.get_model("ledger", "RuleSetVersion")
    for version in RuleSetVersion.objects.filter(requirements__isnull=True):
        install_default_requirements(apps, version)


def remove(apps, schema_editor):
    apps.get_model("ledger", "MeetingRequirement").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_scheme")]

    operations = [migrations.RunPython(add, remove)]
