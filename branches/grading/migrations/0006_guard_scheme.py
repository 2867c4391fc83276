"""Database guards (PostgreSQL) for the scheme that joined rule-set versions: a graded
version's meeting requirements and scored items are frozen with it (no row added,
changed or removed), and published group scores are append-only like the others."""

from django.db import migrations

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION ledger_graded_version_part_guard() RETURNS trigger AS $$
DECLARE
    version_id bigint := CASE WHEN TG_OP = 'INSERT' THEN NEW.version_id ELSE OLD.version_id END;
BEGIN
    IF EXISTS (SELECT 1 FROM grading_gradingrun WHERE rule_version_id = version_id) AND (
        TG_OP <> 'UPDATE' OR to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD)
    ) THEN
        RAISE EXCEPTION '%% of %% refused: version %% graded a month; create a new version',
            TG_OP, TG_TABLE_NAME, version_id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_meetingrequirement_graded_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_meetingrequirement
    FOR EACH ROW EXECUTE FUNCTION ledger_graded_version_part_guard();
CREATE TRIGGER ledger_scoreitem_graded_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_scoreitem
    FOR EACH ROW EXECUTE FUNCTION ledger_graded_version_part_guard();
CREATE TRIGGER grading_publishedgroupscore_append_only BEFORE UPDATE OR DELETE ON grading_publishedgroupscore
    FOR EACH ROW EXECUTE FUNCTION grading_published_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS ledger_meetingrequirement_graded_guard ON ledger_meetingrequirement;
DROP TRIGGER IF EXISTS ledger_scoreitem_graded_guard ON ledger_scoreitem;
DROP TRIGGER IF EXISTS grading_publishedgroupscore_append_only ON grading_publishedgroupscore;
DROP FUNCTION IF EXISTS ledger_graded_version_part_guard();
"""


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("grading", "0005_scheme"), ("ledger", "0005_default_requirements")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
