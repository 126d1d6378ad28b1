"""The Persian number filters: digits, separators, signs kept intact in RTL, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from jinja2 import Environment
from markupsafe import Markup

from rnnlab.errors import RnnlabError
from rnnlab.style.persian import (
    LRI,
    MINUS_SIGN,
    PDI,
    fa,
    is_persian,
    num,
    pct,
    register,
    sci,
    to_persian_digits,
)


def test_fa_converts_every_latin_digit():
    assert fa(1234567890) == "۱۲۳۴۵۶۷۸۹۰"
    assert fa("Q6 at L=200") == "Q۶ at L=۲۰۰"
    assert fa(np.int64(42)) == "۴۲"


def test_fa_keeps_markup_safe():
    out = fa(Markup("<b>3</b>"))
    assert isinstance(out, Markup) and out == Markup("<b>۳</b>")


def test_fa_refuses_floats():
    with pytest.raises(RnnlabError, match="num"):
        fa(0.1 + 0.2)


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.873, 3, "۰٫۸۷۳"),
        (3.14159, 2, "۳٫۱۴"),
        (2.5, 0, "۲"),  # Python rounds half to even; the filter does not invent its own rule
        (7, 0, "۷"),
        (np.float32(0.5), 1, "۰٫۵"),
    ],
)
def test_num_unsigned(value, digits, expected):
    assert num(value, digits) == expected


def test_num_negative_is_isolated_with_a_real_minus():
    out = num(-0.25, 2)
    assert out == f"{LRI}{MINUS_SIGN}۰٫۲۵{PDI}"
    # The sign stays first inside the isolate, so RTL layout keeps it left of the digits.
    assert out[1] == MINUS_SIGN


def test_num_sign_and_zero():
    assert num(0.031, 2, sign=True) == f"{LRI}+۰٫۰۳{PDI}"
    # A value that rounds to zero shows no sign: "−۰٫۰۰" would be noise.
    assert num(-0.001, 2) == "۰٫۰۰"
    assert num(0.001, 2, sign=True) == "۰٫۰۰"


def test_num_thousands_separator():
    assert num(1234567.891, 1, thousands=True) == "۱٬۲۳۴٬۵۶۷٫۹"
    assert num(-12345, 0, thousands=True) == f"{LRI}{MINUS_SIGN}۱۲٬۳۴۵{PDI}"
    assert num(12345, 0) == "۱۲۳۴۵"


def test_num_missing_and_infinite():
    assert num(None) == "—"
    assert num(math.nan) == "—"
    assert num(math.inf, 2) == "∞"


@pytest.mark.parametrize("bad", ["0.5", True, [1]])
def test_num_refuses_non_numbers(bad):
    with pytest.raises(RnnlabError, match="needs a number"):
        num(bad)


def test_num_refuses_negative_digits():
    with pytest.raises(RnnlabError, match="digits"):
        num(1.0, -1)


def test_pct():
    # Logical order digits-then-sign: RTL layout shows the sign on the left (٪۸۷٫۳).
    assert pct(0.873) == "۸۷٫۳٪"
    assert pct(1.0, 0) == "۱۰۰٪"
    assert pct(-0.052, 1) == f"{LRI}٪{MINUS_SIGN}۵٫۲{PDI}"
    assert pct(None) == "—"


def test_sci():
    assert sci(3.2e-12, 1) == Markup(
        '<span class="num" dir="ltr">۳٫۲\u00a0×\u00a0۱۰<sup>−۱۲</sup></span>'
    )
    # Rounding that carries the mantissa to 10 is renormalised.
    assert "۱٫۰۰\u00a0×\u00a0۱۰<sup>۴</sup>" in sci(9999.7, 2)
    assert sci(4.0, 1) == Markup('<span class="num" dir="ltr">۴٫۰</span>')
    assert sci(0.0, 1) == Markup("۰٫۰")
    assert MINUS_SIGN in sci(-2e5, 1)


def test_filters_in_jinja():
    env = Environment(autoescape=True)
    register(env)
    template = env.from_string("{{ a | num(1) }} {{ b | pct(0) }} {{ n | fa }} {{ g | sci(1) }}")
    text = template.render(a=-1.25, b=0.5, n=2026, g=1.5e-3)
    assert text.startswith(f"{LRI}{MINUS_SIGN}۱٫۲{PDI} ۵۰٪ ۲۰۲۶ <span")
    assert "<sup>" in text  # sci is Markup: not escaped


def test_to_persian_digits_leaves_other_text():
    assert to_persian_digits("h_t-1, x2") == "h_t-۱, x۲"


def test_the_persian_test_tells_persian_config_values_from_the_rest():
    assert is_persian("یادگیری عمیق")
    assert is_persian("تمرین سری 5")
    for value in ("vazirmatn", "33.0.3", "[0.5, 1.0]", None, 0.003, "null", "/home/علی/rnn lab"):
        assert not is_persian(value)
    env = Environment()
    register(env)
    rendered = env.from_string("{{ 'درس' is persian }} {{ 'cpu' is persian }}").render()
    assert rendered == "True False"
