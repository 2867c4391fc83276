"""Database guards (PostgreSQL): published scores are append-only, and a rule set
version that graded a month keeps its numbers (only its note may change).

Row triggers leave TRUNCATE alone, so test flushes and ``seed_demo --reset`` still work.
The SQL goes through the driver's parameter substitution, hence %% for RAISE's %.
"""

from django.db import migrations

PUBLISHED_TABLES = ("grading_publishedbranchscore", "grading_publishedmemberscore")

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION grading_published_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'published scores are append-only: %% of %% row %% refused; reopen the month and publish a new version',
        TG_OP, TG_TABLE_NAME, OLD.id USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

-- A publication may lose its publisher (the user deleted: SET NULL) and nothing else.
CREATE OR REPLACE FUNCTION grading_publication_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (to_jsonb(NEW) - 'published_by_id') IS DISTINCT FROM (to_jsonb(OLD) - 'published_by_id') THEN
        RAISE EXCEPTION 'publications are append-only: %% of publication %% refused', TG_OP, OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- A version some grading run used keeps its numbers: only the note (and a deleted
-- author becoming NULL) may change. Its rules are frozen with it.
CREATE OR REPLACE FUNCTION ledger_graded_version_guard() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM grading_gradingrun WHERE rule_version_id = OLD.id) AND (
        TG_OP = 'DELETE'
        OR (to_jsonb(NEW) - 'note' - 'created_by_id') IS DISTINCT FROM (to_jsonb(OLD) - 'note' - 'created_by_id')
    ) THEN
        RAISE EXCEPTION 'rule set version %% graded a month: only its note may change; create a new version',
            OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION ledger_graded_rule_guard() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM grading_gradingrun WHERE rule_version_id = OLD.version_id) AND (
        TG_OP = 'DELETE' OR to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD)
    ) THEN
        RAISE EXCEPTION 'rule %% belongs to a version that graded a month: create a new version', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER grading_publishedbranchscore_append_only BEFORE UPDATE OR DELETE ON grading_publishedbranchscore
    FOR EACH ROW EXECUTE FUNCTION grading_published_append_only();
CREATE TRIGGER grading_publishedmemberscore_append_only BEFORE UPDATE OR DELETE ON grading_publishedmemberscore
    FOR EACH ROW EXECUTE FUNCTION grading_published_append_only();
CREATE TRIGGER grading_publication_guard BEFORE UPDATE OR DELETE ON grading_publication
    FOR EACH ROW EXECUTE FUNCTION grading_publication_guard();
CREATE TRIGGER ledger_rulesetversion_graded_guard BEFORE UPDATE OR DELETE ON ledger_rulesetversion
    FOR EACH ROW EXECUTE FUNCTION ledger_graded_version_guard();
CREATE TRIGGER ledger_rule_graded_guard BEFORE UPDATE OR DELETE ON ledger_rule
    FOR EACH ROW EXECUTE FUNCTION ledger_graded_rule_guard();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS grading_publishedbranchscore_append_only ON grading_publishedbranchscore;
DROP TRIGGER IF EXISTS grading_publishedmemberscore_append_only ON grading_publishedmemberscore;
DROP TRIGGER IF EXISTS grading_publication_guard ON grading_publication;
DROP TRIGGER IF EXISTS ledger_rulesetversion_graded_guard ON ledger_rulesetversion;
DROP TRIGGER IF EXISTS ledger_rule_graded_guard ON ledger_rule;
DROP FUNCTION IF EXISTS grading_published_append_only();
DROP FUNCTION IF EXISTS grading_publication_guard();
DROP FUNCTION IF EXISTS ledger_graded_version_guard();
DROP FUNCTION IF EXISTS ledger_graded_rule_guard();
"""


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("grading", "0003_lean_member_draft"), ("ledger", "0003_grading_parameters")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
