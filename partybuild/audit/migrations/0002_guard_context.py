"""The context of an event (who, from where) is as append-only as the events: no DELETE,
and a value once recorded (the user, the address, the path, the command) never changes.
pghistory itself updates a context row within its request when more is added (a task
run eagerly adds its name), so UPDATE stays allowed for keys not yet set or not guarded.
PostgreSQL only, like the event triggers."""

from django.db import migrations

GUARDED = "ARRAY['user', 'username', 'ip', 'method', 'path', 'command']::text[]"

INSTALL = f"""
CREATE OR REPLACE FUNCTION audit_context_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR EXISTS (
        SELECT 1 FROM jsonb_each(OLD.metadata) AS o
        WHERE o.key = ANY ({GUARDED}) AND o.value <> 'null'::jsonb
          AND NEW.metadata -> o.key IS DISTINCT FROM o.value
    ) THEN
        RAISE EXCEPTION 'The audit trail is append-only: a recorded context may not change';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_context_guard ON pghistory_context;
CREATE TRIGGER audit_context_guard BEFORE UPDATE OR DELETE ON pghistory_context
    FOR EACH ROW EXECUTE FUNCTION audit_context_guard();
CREATE INDEX IF NOT EXISTS audit_context_username ON pghistory_context ((metadata ->> 'username'));
"""

UNINSTALL = """
DROP TRIGGER IF EXISTS audit_context_guard ON pghistory_context;
DROP FUNCTION IF EXISTS audit_context_guard();
DROP INDEX IF EXISTS audit_context_username;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNINSTALL, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial"), ("pghistory", "0007_auto_20250421_0444")]

    operations = [migrations.RunPython(forwards, backwards)]
