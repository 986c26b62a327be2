"""Tag statements for Unity Catalog on Databricks, built only in lakectl/core/sql.py: names quoted, values literals."""

from __future__ import annotations

import pytest

from lakectl.core.sql import unity_set_tags, unity_tags_select, unity_unset_tags


def test_set_and_unset_tags_quote_names_and_values():
    name = ("my`cat", "sales.eu", "o'brien")
    assert unity_set_tags("table", name, None, {"pii": "e'mail", "a\\b": "x"}) == (
        "ALTER TABLE `my``cat`.`sales.eu`.`o'brien` SET TAGS ('pii' = 'e\\'mail', 'a\\\\b' = 'x')"
    )
    assert unity_unset_tags("table", name, "e-mail`x", ["pii"]) == (
        "ALTER TABLE `my``cat`.`sales.eu`.`o'brien` ALTER COLUMN `e-mail``x` UNSET TAGS ('pii')"
    )
    assert unity_set_tags("schema", ("c", "s"), None, {"k": "v"}) == "ALTER SCHEMA `c`.`s` SET TAGS ('k' = 'v')"
    with pytest.raises(ValueError):
        unity_set_tags("schema", ("c", "s"), "col", {"k": "v"})


def test_the_tag_read_binds_names_as_parameters_never_as_text():
    sql, params = unity_tags_select("table", ("c'; DROP", "s", "t"))
    assert "DROP" not in sql and params == [("p0", "c'; DROP"), ("p1", "s"), ("p2", "t")]
    assert "system.information_schema.table_tags" in sql and "system.information_schema.column_tags" in sql
    assert sql.count(":p0") == 2


def test_mask_and_row_filter_statements_quote_every_name():
    from lakectl.core.sql import unity_drop_column_mask, unity_drop_row_filter, unity_set_column_mask, unity_set_row_filter

    t = ("my`cat", "s", "o'brien")
    assert unity_set_column_mask(t, "e mail`", ("c", "sec", "m'x")) == (
        "ALTER TABLE `my``cat`.`s`.`o'brien` ALTER COLUMN `e mail``` SET MASK `c`.`sec`.`m'x`"
    )
    assert unity_set_column_mask(t, "ssn", ("c", "sec", "m"), ["a`b", "c"]) == (
        "ALTER TABLE `my``cat`.`s`.`o'brien` ALTER COLUMN `ssn` SET MASK `c`.`sec`.`m` USING COLUMNS (`a``b`, `c`)"
    )
    assert unity_drop_column_mask(t, "ssn") == "ALTER TABLE `my``cat`.`s`.`o'brien` ALTER COLUMN `ssn` DROP MASK"
    assert (
        unity_set_row_filter(t, ("c", "sec", "f"), ["country"])
        == "ALTER TABLE `my``cat`.`s`.`o'brien` SET ROW FILTER `c`.`sec`.`f` ON (`country`)"
    )
    assert unity_set_row_filter(t, ("c", "sec", "f"), []) == "ALTER TABLE `my``cat`.`s`.`o'brien` SET ROW FILTER `c`.`sec`.`f` ON ()"
    assert unity_drop_row_filter(t) == "ALTER TABLE `my``cat`.`s`.`o'brien` DROP ROW FILTER"
