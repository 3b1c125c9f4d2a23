"""`app.sync.central.replaced`: how central migrations rebuild an earlier function's text."""

import pytest

from app.sync.central import replaced


def test_each_text_is_replaced_once_in_order():
    assert replaced("a b c", ("b", "x"), ("x c", "y")) == "a y"


@pytest.mark.parametrize("text", ["a c", "b b"])
def test_a_text_missing_or_found_twice_stops_the_migration_and_says_which(text):
    with pytest.raises(ValueError, match="expected exactly one 'b'"):
        replaced(text, ("b", "x"))
