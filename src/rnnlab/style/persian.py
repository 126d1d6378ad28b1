"""Persian number formatting: the Jinja filters of the report, also usable from Python.

    {{ 12 | fa }}            -> ۱۲              Persian digits in any string or integer
    {{ -0.25 | num(2) }}     -> ⁦-۰٫۲۵⁩          kept intact in RTL text (LRI ... PDI)
    {{ 12345 | num(0, thousands=True) }} -> ۱۲٬۳۴۵
    {{ 0.873 | pct(1) }}     -> ۸۷٫۳٪          (shown ٪۸۷٫۳ in RTL text)
    {{ 3.2e-12 | sci(1) }}   -> ۳٫۲ × ۱۰⁻¹² (HTML, LTR span with <sup>)

Why the isolates: in a right-to-left paragraph the bidi algorithm moves a
leading minus or plus sign to the right of the digits (`۰٫۲۵-`). Wrapping a
signed number in LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE keeps it as
one left-to-right unit; Pango/WeasyPrint honour these characters (unlike the
CSS `unicode-bidi` property). Unsigned numbers need no isolate: Persian digits
with the Persian separators ٫ and ٬ already form one number run.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from jinja2 import Undefined
from markupsafe import Markup, escape

from rnnlab.errors import RnnlabError

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
# The letters of the Persian alphabet, as a regex character class body (textlint uses it too).
PERSIAN_LETTERS = "\u0621-\u063a\u0641-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc\u0622"
_TO_PERSIAN = str.maketrans("0123456789", PERSIAN_DIGITS)
DECIMAL_SEPARATOR = "\u066b"  # ٫ ARABIC DECIMAL SEPARATOR
THOUSANDS_SEPARATOR = "\u066c"  # ٬ ARABIC THOUSANDS SEPARATOR
PERCENT_SIGN = "\u066a"  # ٪ ARABIC PERCENT SIGN
MINUS_SIGN = "\u2212"  # − the typographic minus, not the hyphen
LRI = "\u2066"
PDI = "\u2069"
RLM = "\u200f"
# A Latin letter and the neutral characters after it (spaces, punctuation, brackets),
# when a Persian digit follows: the bidirectional algorithm gives that digit the Latin
# word's direction, so in right-to-left text the two are drawn in swapped order
# («tanh ۸۵٫۴٪» shows the number first). The renderer puts an RLM before such a digit
# (render.mark_rtl_numbers); the text lint reports any left.
LATIN_BEFORE_DIGIT = f"[A-Za-z][^\\w<>{RLM}]{{0,6}}"
# Shown for a value that does not exist (None, NaN): visible, never a fake number.
MISSING = "—"


def to_persian_digits(text: str) -> str:
    """Latin digits 0-9 -> Persian digits; everything else unchanged."""
    return text.translate(_TO_PERSIAN)


def fa(value: Any) -> str:
    """Persian digits in any string or integer (`{{ 3 | fa }}` -> ۳).

    Floats are refused: their repr (`0.30000000000000004`) is never what a
    reader should see; use `num` with an explicit number of decimals.
    """
    if isinstance(value, float):
        raise RnnlabError(
            f"fa got the float {value!r}; format floats with `num(value, digits)` "
            "so the number of decimals is explicit."
        )
    # Markup in, Markup out: `fa` may wrap already-escaped HTML.
    if isinstance(value, Markup):
        return Markup(to_persian_digits(str(value)))
    return to_persian_digits(str(value))


def _as_real(value: Any, filter_name: str) -> float | int | None:
    """The number to format, None for a missing value, or a clear error."""
    if value is None:
        return None
    if isinstance(value, Undefined):
        # Let Jinja report the missing key by name (StrictUndefined raises here).
        str(value)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise RnnlabError(
            f"{filter_name} needs a number, got {type(value).__name__} {value!r}; "
            "check the results.json key the template reads."
        )
    if isinstance(value, Integral):
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value


def _isolate(text: str) -> str:
    """Wrap a signed number so RTL text keeps its sign on the left."""
    return f"{LRI}{text}{PDI}"


def _format_unsigned(magnitude: float | int, digits: int, thousands: bool) -> str:
    if math.isinf(magnitude):
        return "∞"
    grouping = "," if thousands else ""
    latin = f"{magnitude:{grouping}.{digits}f}"
    # Swap separators via placeholders so "," and "." never collide.
    latin = latin.replace(",", "\0").replace(".", DECIMAL_SEPARATOR)
    latin = latin.replace("\0", THOUSANDS_SEPARATOR)
    return to_persian_digits(latin)


def num(value: Any, digits: int = 2, thousands: bool = False, sign: bool = False) -> str:
    """A number in Persian digits with `digits` decimals.

    `thousands=True` groups with ٬; `sign=True` writes + before positive values
    (for differences). Signed output is wrapped in LRI ... PDI so it stays
    intact in right-to-left text. None and NaN give "—".
    """
    number = _as_real(value, "num")
    if number is None:
        return MISSING
    if digits < 0:
        raise RnnlabError(f"num got digits={digits}; use 0 or more decimals.")
    body = _format_unsigned(abs(number), digits, thousands)
    # A value that rounds to zero shows no sign: "−۰٫۰۰" would be noise.
    rounds_to_zero = not math.isinf(number) and round(abs(number), digits) == 0
    if number < 0 and not rounds_to_zero:
        return _isolate(MINUS_SIGN + body)
    if sign and number > 0 and not rounds_to_zero:
        return _isolate("+" + body)
    return body


def pct(fraction: Any, digits: int = 1, sign: bool = False) -> str:
    """A fraction as a Persian percentage: 0.873 -> ۸۷٫۳٪, seen on the page as ٪۸۷٫۳.

    The logical order is digits then ٪ (read "۸۷٫۳ درصد"); in RTL text the
    number run puts the sign on its left, which is how Persian prints it (checked
    in a WeasyPrint PDF: logical ٪۸۷ would print the sign on the right). A
    negative value is an LTR isolate, so there the sign is written first to
    keep it on the left too: ٪−۵٫۲.
    """
    number = _as_real(fraction, "pct")
    if number is None:
        return MISSING
    text = num(number * 100, digits, sign=sign)
    if text.startswith(LRI):
        return _isolate(PERCENT_SIGN + text[1:-1])
    return text + PERCENT_SIGN


def sci(value: Any, digits: int = 2) -> Markup:
    """A number in scientific notation, `۳٫۲۰ × ۱۰⁻¹²`, as an LTR HTML span.

    For quantities that span many orders of magnitude (gradient norms), where a
    fixed number of decimals would print 0.00.
    """
    number = _as_real(value, "sci")
    if number is None:
        return Markup(MISSING)
    if number == 0 or math.isinf(number):
        return Markup(num(number, digits))
    exponent = math.floor(math.log10(abs(number)))
    mantissa = number / 10**exponent
    # Rounding can carry the mantissa to 10.0 (9.996 -> 10.00): renormalise.
    if round(abs(mantissa), digits) >= 10:
        mantissa /= 10
        exponent += 1
    mantissa_text = num(mantissa, digits).replace(LRI, "").replace(PDI, "")
    if exponent == 0:
        body = mantissa_text
    else:
        exp_text = (MINUS_SIGN if exponent < 0 else "") + fa(abs(exponent))
        body = f"{mantissa_text}\u00a0×\u00a0۱۰<sup>{exp_text}</sup>"
    return Markup(f'<span class="num" dir="ltr">{body}</span>')


def config_rows(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A nested config as (dotted key, value as text) rows, for a readable table.

    Lists of scalars are joined with ", ", None is "null", booleans "true"/"false"
    (as YAML writes them); the text is left-to-right English for an `en` span.
    """
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key in sorted(value):
            rows += config_rows(value[key], f"{prefix}.{key}" if prefix else str(key))
        return rows
    return [(prefix, _config_text(value))]


def _config_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_config_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_config_text(v)}" for k, v in sorted(value.items())) + "}"
    return str(value)


FILTERS = {"fa": fa, "num": num, "pct": pct, "sci": sci, "config_rows": config_rows}
GLOSSARY_PATH = Path(__file__).with_name("glossary.yaml")


@lru_cache(maxsize=1)
def glossary() -> dict[str, dict[str, Any]]:
    """The report's terms (glossary.yaml): key -> {fa, en, avoid}."""
    import yaml

    entries = yaml.safe_load(GLOSSARY_PATH.read_text(encoding="utf-8"))
    for key, entry in entries.items():
        if not isinstance(entry, dict) or not {"fa", "en"} <= set(entry):
            raise RnnlabError(f"glossary entry {key!r} needs fa and en ({GLOSSARY_PATH})")
        entry.setdefault("avoid", [])
    return entries


def term(key: str, en: bool = False) -> Markup:
    """The Persian term of a concept; `en=True` adds its English («حالت پنهان (hidden state)»)."""
    entries = glossary()
    if key not in entries:
        raise RnnlabError(
            f"term {key!r} is not in the glossary; add it to {GLOSSARY_PATH} "
            f"(known: {', '.join(sorted(entries))})"
        )
    entry = entries[key]
    text = escape(entry["fa"])
    if en:
        text += Markup(' (<span class="en" dir="ltr">{}</span>)').format(entry["en"])
    return Markup(text)


def is_persian(value: Any) -> bool:
    """Whether `value` is Persian text: it holds a Persian letter and is not a path.

    A path stays left to right even through a Persian folder name («/home/علی/rnn lab»):
    set right to left, its parts would be drawn in reverse order.
    """
    text = str(value)
    return re.search(f"[{PERSIAN_LETTERS}]", text) is not None and not re.search(r"[/\\]", text)


def register(env: Any) -> None:
    """Add the Persian filters, the `persian` test and the `term` global to a Jinja environment."""
    env.filters.update(FILTERS)
    env.tests["persian"] = is_persian
    env.globals["term"] = term
