from lakectl.sql import path_ref, quote_ident, quote_name, quote_string

import pytest


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
