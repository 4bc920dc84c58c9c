"""Reading numbers typed or posted in forms and URLs."""

from __future__ import annotations

import pytest

from channels.web.forms import whole_number


@pytest.mark.parametrize(
    ("text", "digits", "number"), [("0", 9, 0), ("42", 9, 42), ("123456789", 9, 123456789), ("0012", 4, 12)]
)
def test_ascii_digits_within_the_length_are_a_number(text: str, digits: int, number: int) -> None:
    assert whole_number(text, digits) == number


@pytest.mark.parametrize("text", [None, "", "1234567890", "-1", "+1", " 1", "1.0", "²", "٣", "１２", "1e3"])
def test_anything_else_is_none(text: str | None) -> None:
    assert whole_number(text) is None
