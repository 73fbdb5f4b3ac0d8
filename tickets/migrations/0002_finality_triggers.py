"""Finality in the database (DESIGN §6): no UPDATE of a request row in a final state, whoever
issues it (admin, QuerySet.update, raw SQL, the shell). PostgreSQL also refuses DELETE; SQLite
refuses it in the ORM only, since a delete trigger there would break the test runner's flush.
Both raise an integrity error whose message starts with "casemgr-final:"."""

from __future__ import annotations

from django.db import migrations

FINAL = "('approved', 'rejected_final', 'withdrawn')"

SQLITE_UP = f"""
CREATE TRIGGER tickets_request_final_no_update
BEFORE UPDATE ON tickets_reassessmentrequest
FOR EACH ROW WHEN OLD.state IN {FINAL}
BEGIN
    SELECT RAISE(ABORT, 'casemgr-final: a reassessment request in a final state cannot be changed');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS tickets_request_final_no_update;"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION tickets_request_final_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.state IN {FINAL} THEN
        RAISE EXCEPTION 'casemgr-final: reassessment request % is % and cannot be %',
            OLD.reference, OLD.state, CASE WHEN TG_OP = 'DELETE' THEN 'deleted' ELSE 'changed' END
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
---
CREATE TRIGGER tickets_request_final_guard
BEFORE UPDATE OR DELETE ON tickets_reassessmentrequest
FOR EACH ROW EXECUTE FUNCTION tickets_request_final_guard();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS tickets_request_final_guard ON tickets_reassessmentrequest;
---
DROP FUNCTION IF EXISTS tickets_request_final_guard();
"""


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)
    elif vendor == "postgresql":
        # A plain cursor: the plpgsql body has '%' placeholders that must not be interpolated.
        with schema_editor.connection.cursor() as cursor:
            for statement in POSTGRES_UP.split("---"):
                cursor.execute(statement)
    else:
        raise RuntimeError(f"No finality trigger for the {vendor} database.")


def backwards(apps, schema_editor):  # noqa: ANN001, ANN201
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        for statement in (SQLITE_DOWN if vendor == "sqlite" else POSTGRES_DOWN).split("---"):
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
