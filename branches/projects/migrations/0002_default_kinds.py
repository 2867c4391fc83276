from django.db import migrations


def install(apps, schema_editor):
    from branches.projects.defaults import install_default_kinds

    install_default_kinds(apps)


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
