import pytest

from lakectl.core.sql import path_ref, quote_ident, quote_name, quote_string


def test_quote_ident_doubles_backticks():
    assert quote_ident("customer_id") == "`customer_id`"
    assert quote_ident("x`; DROP TABLE y; --") == "`x``; DROP TABLE y; --`"


def test_quote_ident_rejects_empty_and_nul():
    with pytest.raises(ValueError):
        quote_ident("")
    with pytest.raises(ValueError):
        quote_ident("a\x00b")


def test_quote_name_and_path_and_string():
    assert quote_name("main", "gold", "kpi") == "`main`.`gold`.`kpi`"
    assert path_ref("/tmp/a`b") == "delta.`/tmp/a``b`"
    assert quote_string("it's \\ here") == "'it\\'s \\\\ here'"


def test_create_table_and_merge_statements_quote_every_name():
    from lakectl.core.sql import create_table_sql, merge_sql, path_ref, quote_ident

    ref, view = path_ref("/lake/it's `x`"), quote_ident("_lakectl_v")
    text = create_table_sql(ref, view, partition_by=["event date"], properties={"delta.x": "it's"})
    assert text == (
        "CREATE TABLE IF NOT EXISTS delta.`/lake/it's ``x``` USING DELTA PARTITIONED BY (`event date`) "
        "TBLPROPERTIES ('delta.x' = 'it\\'s') AS SELECT * FROM `_lakectl_v`"
    )
    at = create_table_sql("`c`.`s`.`t`", view, location="s3://b/it's")
    assert at == "CREATE TABLE IF NOT EXISTS `c`.`s`.`t` USING DELTA LOCATION 's3://b/it\\'s' AS SELECT * FROM `_lakectl_v`"
    assert merge_sql(ref, view, "id`1") == (
        "MERGE INTO delta.`/lake/it's ``x``` t USING `_lakectl_v` s ON t.`id``1` = s.`id``1` WHEN NOT MATCHED THEN INSERT *"
    )
    upsert = merge_sql(ref, view, "k", update_columns=["a"], evolve_schema=True)
    assert upsert.startswith("MERGE WITH SCHEMA EVOLUTION INTO ")
    assert "WHEN MATCHED AND (NOT (t.`a` <=> s.`a`)) THEN UPDATE SET *" in upsert
    two = merge_sql(ref, view, ["event_id", "model`version"])
    assert " ON t.`event_id` = s.`event_id` AND t.`model``version` = s.`model``version` WHEN NOT MATCHED" in two
