"""A Persian copy editor's checks on the report's rendered HTML text.

`lint(html)` reads the visible text of the report paragraph by paragraph and
returns a `Finding` for each:

- ``glue``: a word glued to a number, a Latin word, a formula or punctuation
  («۰٫۳۱۰است», «واحد ۲با», «GRUپنجرهٔ», «است.سهم»);
- ``zwnj``: a prefix or suffix written apart instead of with a zero-width
  non-joiner («می شود», «شبکه ها», «گام به گام», «راه حل»);
- ``latin-digit``: Latin digits in Persian prose or tables (outside LTR
  islands: code, formulas, `en(...)` spans, the English reference list);
- ``english``: an English phrase of three or more words outside an LTR island;
- ``math-text``: math written as plain right-to-left text: Unicode sub- and
  superscripts, roots and norms («‖ₜh‖», «ₕd√»), or a one-letter formula
  («1−z», «t+1») outside a formula image or an LTR island;
- ``nbsp``: «1 × 1» with breakable spaces (it must not break over lines);
- ``term``: a variant the glossary (glossary.yaml) says to avoid;
- ``label``: a question label out of the Persian letter order (abjad or
  alphabetical) with no note explaining it;
- ``bidi``: a Persian digit right after a Latin word («LSTM: ۱.») with no RLM
  between (see `persian.LATIN_BEFORE_DIGIT`): the renderer puts one in
  (`render.mark_rtl_numbers`), so a finding is a case it could not see, such as a
  number that a tag separates from the word.

Quoted question text (blockquote.question) is the assignment's own wording and
is not checked, except for its label and ``bidi`` (which is about how it is shown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from rnnlab.style.persian import LATIN_BEFORE_DIGIT, glossary
from rnnlab.style.persian import PERSIAN_LETTERS as LETTER

DIGIT = "\u06f0-\u06f9"
MATH = "\u25a1"  # stands for a formula image in the extracted text
ZWNJ = "\u200c"
BLOCKS = {
    "p", "div", "li", "td", "th", "caption", "figcaption", "h1", "h2", "h3", "h4",
    "blockquote", "section", "table", "tr", "ul", "ol", "pre", "nav", "br", "figure",
}  # fmt: skip
# Elements whose text is left to right (the renderer's RLM pass skips them too).
LTR_TAGS = {"code", "pre", "kbd", "samp", "sub", "sup"}
ABJAD = ["الف", "ب", "ج", "د", "ه", "و", "ز", "ح", "ط", "ی"]
ALPHABET = ["الف", "ب", "پ", "ت", "ث", "ج", "چ", "ح", "خ", "د", "ذ", "ر", "ز"]

# A formula of one-character operands, with a Latin one on at least one side.
OP = "[-\u2212+=/]"
FORMULA = (
    f"(?<![A-Za-z])[A-Za-z0-9] ?{OP} ?[A-Za-z0-9{DIGIT}](?![A-Za-z])"
    f"|(?<![A-Za-z])[{DIGIT}] ?{OP} ?[A-Za-z0-9](?![A-Za-z])"
)
# The rules that also read quoted question text.
IN_QUOTES = {"bidi"}
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bidi", re.compile(f"{LATIN_BEFORE_DIGIT}[{DIGIT}]")),
    ("glue", re.compile(f"[{DIGIT}\u066a][{LETTER}]|[{LETTER}][{DIGIT}]")),
    ("glue", re.compile(f"[A-Za-z0-9{MATH}][{LETTER}]|[{LETTER}][A-Za-z0-9{MATH}]")),
    ("glue", re.compile(f"[.!?؟؛،:)][{LETTER}]|[{LETTER}]\\(")),
    ("zwnj", re.compile(f"(?<![{LETTER}{ZWNJ}])ن?می (?=[{LETTER}])")),
    ("zwnj", re.compile(f"[{LETTER}] (?:ها|های|هایی|تر|ترین)(?![{LETTER}{ZWNJ}])")),
    ("zwnj", re.compile("گام به گام|راه حل")),
    ("latin-digit", re.compile("(?<![A-Za-z0-9_.])[0-9]+(?:[.,][0-9]+)*(?![A-Za-z0-9_])")),
    ("english", re.compile(r"[A-Za-z][\w'-]*(?:[ ,]+[A-Za-z0-9][\w'-]*){2,}")),
    ("math-text", re.compile("[\u2080-\u209c\u2070-\u207f\u221a\u2016]")),
    ("math-text", re.compile(FORMULA)),
    ("nbsp", re.compile(f"[0-9A-Za-z{DIGIT}] [\u00d7] [0-9A-Za-z{DIGIT}]")),
)


@dataclass(frozen=True)
class Finding:
    kind: str
    found: str
    context: str

    def __str__(self) -> str:
        return f"{self.kind}: «{self.found}» in «{self.context}»"


class _Text(HTMLParser):
    """Splits the document into blocks of (text, is_ltr, is_quoted) runs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # (tag, ltr island, inside a quote, a block of its own)
        self.stack: list[tuple[str, bool, bool, bool]] = []
        self.blocks: list[list[tuple[str, bool, bool]]] = [[]]
        self.labels: list[tuple[str, bool]] = []  # (question label, has a note)
        self._label: list[str] | None = None

    def _state(self) -> tuple[bool, bool]:
        return (self.stack[-1][1], self.stack[-1][2]) if self.stack else (False, False)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        ltr, quote = self._state()
        ltr = ltr or found.get("dir") == "ltr" or tag in LTR_TAGS or "en" in classes
        if tag == "blockquote" and "question" in classes:
            quote = True
            self.labels.append(("", False))
        if "question-label" in classes:
            self._label = []
        if "label-note" in classes and self.labels:
            self.labels[-1] = (self.labels[-1][0], True)
        block = tag in BLOCKS or "footnote" in classes
        if block:
            self.blocks.append([])
        if tag == "img":
            self.blocks[-1].append((MATH, True, quote))
            return
        if tag not in ("br", "meta", "link", "hr", "input"):
            self.stack.append((tag, ltr, quote, block))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, _, _, block = self.stack.pop()
            if open_tag == "span" and self._label is not None:
                self.labels[-1] = ("".join(self._label), self.labels[-1][1])
                self._label = None
            if block:
                self.blocks.append([])
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] in ("style", "script", "title"):
            return
        if self._label is not None:
            self._label.append(data)
        ltr, quote = self._state()
        self.blocks[-1].append((data, ltr, quote))


def _blocks(html: str) -> tuple[list[tuple[str, str]], list[tuple[str, bool]]]:
    """(block text, mask) per block, whitespace runs collapsed to one space; the mask has
    one letter per character: 'l' in an LTR island, 'q' in quoted question text, else 'r'."""
    parser = _Text()
    parser.feed(html)
    out = []
    for runs in parser.blocks:
        chars: list[str] = []
        mask: list[str] = []
        for text, ltr, quote in runs:
            kind = "l" if ltr else "q" if quote else "r"
            for char in text:
                if char in " \t\n\r\f":
                    if chars and chars[-1] == " ":
                        continue
                    char = " "
                chars.append(char)
                mask.append(kind)
        text = "".join(chars)
        if text.strip():
            out.append((text, "".join(mask)))
    return out, parser.labels


def _context(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - 25) : end + 25].split())


def lint(html: str) -> list[Finding]:
    """Every finding in the visible text of `html` (see the module docstring)."""
    blocks, labels = _blocks(html)
    findings: list[Finding] = []
    avoid = [(v, e["fa"]) for e in glossary().values() for v in e["avoid"]]
    for text, mask in blocks:
        for kind, pattern in RULES:
            for match in pattern.finditer(text):
                span = mask[match.start() : match.end()]
                if "q" in span and kind not in IN_QUOTES:
                    continue
                if kind in ("latin-digit", "english", "math-text", "bidi") and "l" in span:
                    continue
                if kind in ("zwnj", "glue") and "r" not in span:
                    continue
                findings.append(Finding(kind, match.group(0), _context(text, *match.span())))
        for variant, preferred in avoid:
            for match in re.finditer(f"(?<![{LETTER}{ZWNJ}]){re.escape(variant)}", text):
                if "q" in mask[match.start() : match.end()]:
                    continue
                context = _context(text, *match.span())
                findings.append(Finding("term", f"{variant} → {preferred}", context))
    findings += _label_findings(labels)
    return findings


def _label_findings(labels: list[tuple[str, bool]]) -> list[Finding]:
    findings = []
    for label, noted in labels:
        letter = label.rstrip(":").split("-", 1)[-1].strip() if "-" in label else ""
        known = letter in ABJAD or letter in ALPHABET or re.fullmatch("[A-Z]", letter)
        if letter and not known and not noted:
            findings.append(Finding("label", label, "a label with no note on its letter"))
    return findings
