"""The written answers (Q2, Q3, Q4) and the reference list, rendered as the report renders them.

The sections go through the report's own Jinja environment (filters, macros, the
ziamath formula renderer), with a small stand-in `r`. The computed fragments of
Q2-c/h/i belong to the theory stage and read its own keys, so they are replaced
by empty stubs here: these tests check the written answers, not that stage.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import ChoiceLoader, DictLoader, Environment

from rnnlab.report.mathsvg import MathRenderer
from rnnlab.report.render import Figures, check_links, make_environment
from rnnlab.style import persian
from rnnlab.theory.summary import gated_counts

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
MINE = ("q2", "q3", "q4")
FRAGMENTS = ("q2_c", "q2_h", "q2_i")
# Parts each section must answer, in the homework's order (Q2-c comes from a fragment).
PARTS = {
    "q2": ["q2-a", "q2-b", "q2-d", "q2-e", "q2-f", "q2-g", "q2-h", "q2-i"],
    "q3": ["q3-a", "q3-b", "q3-c", "q3-d"],
    "q4": ["q4-1", "q4-2", "q4-3"],
}
# Keys other sections cite: the reference list must keep them.
REQUIRED_KEYS = {
    "maas2011", "elman1990", "bengio1994", "hochreiter1997", "pascanu2013", "cho2014",
    "chung2014", "schuster1997", "graves2005", "shi2015", "campos2018", "pascanu2014",
    "dai2015", "greff2017", "jozefowicz2015", "hebrail2012", "kingma2015", "paszke2019",
    "goodfellow2016", "vaswani2017", "bradbury2017", "bai2018", "lei2018", "gers2000",
}  # fmt: skip
FIGURE_IDS = ("q6a_accuracy", "q6b_gradients", "q6c_hidden", "q2h_addition", "q2i_timing")

PERSIAN_WORD = re.compile(r"[\u0600-\u06ff\u200c]*[\u0621-\u06cc][\u0600-\u06ff\u200c]*")
LTR_SPAN = re.compile(r'<span[^>]*dir="ltr"[^>]*>.*?</span>', re.S)
# An <img> whose alt text (the LaTeX) may itself contain ">".
IMG = re.compile(r'<img\b(?:[^>"]|"[^"]*")*>', re.S)
TAG = re.compile(r"<[^>]+>")


def stand_in_results() -> dict[str, Any]:
    """A small results.json with distinctive values, shaped like the real summaries."""
    return {
        "meta": {},
        "imdb": {
            "vocab_size": 27183,
            "length_stats": [
                {"part": "train", "mean": 231.7, "median": 174.0, "p90": 457.0},
                {"part": "test", "mean": 228.2, "median": 171.0, "p90": 449.0},
            ],
        },
        "q6a": {
            "hyper": {"embed_dim": 96},
            # Two seeds per cell, so the claims can decide (rnnlab.report.xref).
            "runs": [
                {"model": m, "length": n, "seed": seed, "test_acc": acc + 0.002 * seed}
                for m, n, acc in (
                    ("rnn", 50, 0.7112),
                    ("rnn", 400, 0.5731),
                    ("lstm", 50, 0.7598),
                    ("lstm", 400, 0.8649),
                )
                for seed in (0, 1)
            ],  # fmt: skip
            "trend": {
                "rnn": {"first_length": 50, "last_length": 400, "change": -0.1381},
                "lstm": {"first_length": 50, "last_length": 400, "change": 0.1051},
            },
            "comparison": [
                {"length": 50, "rnn": 0.7112, "lstm": 0.7598},
                {"length": 400, "rnn": 0.5731, "lstm": 0.8649},
            ],
        },
        "q6b": {
            "length": 200,
            "horizon_threshold": 0.001,
            "ranking": {"longer_memory": "lstm"},
            "models": {
                "rnn": {
                    "trained": {
                        "curves": {
                            "h": {
                                "ratio_first_last": 3.7e-9,
                                "factor_per_step": 0.9071,
                                "horizon_steps": 37,
                                "horizon_censored": False,
                                "mean": {
                                    "ratio_first_last": 2.2e-4,
                                    "factor_per_step": 0.9561,
                                    "horizon_steps": 161,
                                    "horizon_censored": False,
                                },
                            }
                        }
                    }
                },
                "lstm": {
                    "trained": {
                        "curves": {
                            "h": {
                                "ratio_first_last": 0.0213,
                                "factor_per_step": 0.9808,
                                "horizon_steps": 199,
                                "horizon_censored": True,
                                "mean": {
                                    "ratio_first_last": 0.1004,
                                    "factor_per_step": 0.9885,
                                    "horizon_steps": 199,
                                    "horizon_censored": True,
                                },
                            }
                        }
                    }
                },
            },
        },  # fmt: skip
        "q6c": {
            "saturation_level": 0.95,
            "models": {
                "rnn": {
                    "h": {
                        "late_mean_over_bound": 0.613,
                        "late_saturated_share": 0.291,
                        "saturated_share": 0.287,
                    }
                }
            },
        },
        "theory": {
            "gated": gated_counts({"base": {"spec": {"input_size": 64, "hidden1": 32}}}),
            "addition": {
                "train_bits": 8,
                "pairs_train": 6000,
                "pairs_total": 65536,
                "train_share": 6000 / 65536,
                "rnn": {"params": 161, "accuracy": {"8": 0.9993, "24": 0.9917}},
                "mlp": {"params": 41234, "accuracy": {"8": 0.4242}},
                "params_ratio_mlp_to_rnn": 41234 / 161,
                "mlp_input_size": 16,
                "by_length": [
                    {
                        "bits": 8,
                        "rnn": {"exact": 0.9993},
                        "mlp": {"exact": 0.4242},
                        "chance_exact": 0.5**9,
                    },
                    {"bits": 24, "rnn": {"exact": 0.9917}, "mlp": None, "chance_exact": 0.5**25},
                ],
            },
            "parallelism": {
                "device": "Stand-in CPU, 2 torch threads",
                "device_key": "cpu-2t",
                "longest": {
                    "length": 512,
                    "rnn_ms": 83.4,
                    "conv_ms": 6.1,
                    "matmul_ms": 2.2,
                    "rnn_slowdown_vs_conv": 83.4 / 6.1,
                },
            },
        },  # fmt: skip
        "q7": {
            "a": {
                "rows": {"lstm": {"parameters": 52033}, "gru": {"parameters": 39041}},
                "gru_vs_lstm": {
                    "param_ratio": 39041 / 52033,
                    "mse_gain": 0.0417,
                    "time_ratio": 0.83,
                },
                "bilstm_vs_lstm": {"param_ratio": 2.31, "mse_gain": -0.0262, "time_ratio": 1.94},
            }
        },
    }


def with_claims(results: dict[str, Any], rnn_times=(80.0, 83.4, 85.0)) -> dict[str, Any]:
    """``results`` with the claims report_collect would give it (see rnnlab.claims).

    Theory: RNN vs MLP exact-sum accuracy over 10,000 pairs and the RNN vs convolution
    timing (convolution repeats around 6 ms); Q7-a: BiLSTM worse, GRU better than the
    LSTM on the same targets; xref: computed from the Q6 parts as in report_collect.
    """
    import numpy as np

    from rnnlab import claims as cl
    from rnnlab.report import xref

    add = results["theory"]["addition"]
    rng = np.random.default_rng(0)
    errors = rng.normal(size=200)
    out = {
        **results,
        "claims": {
            "theory": cl.collect(
                cl.compare_proportions(
                    "theory.q2h.rnn_vs_mlp",
                    round(add["rnn"]["accuracy"]["8"] * 10000),
                    10000,
                    round(add["mlp"]["accuracy"]["8"] * 10000),
                    10000,
                    names=("rnn", "mlp"),
                ),
                cl.versus_threshold(
                    "theory.q2h.params", add["params_ratio_mlp_to_rnn"], 1.0, "EQUAL_SIZE"
                ),
                cl.compare_timings(
                    "theory.q2i.cpu-2t.rnn_vs_conv",
                    list(rnn_times),
                    [5.9, 6.1, 6.3],
                    names=("rnn", "conv"),
                ),
            ),  # fmt: skip
            "q7": cl.collect(
                cl.compare_forecasters(
                    "q7.a.bilstm_vs_lstm", errors * 1.5, errors, names=("bilstm", "lstm")
                ),
                cl.compare_forecasters(
                    "q7.a.gru_vs_lstm", errors, errors * 1.5, names=("gru", "lstm")
                ),
            ),
        },
    }
    out["claims"]["xref"] = xref.claims(out)
    return out


def environment(tmp_path: Path, math_dir: Path, figures: tuple[str, ...] = ()) -> Environment:
    """The report's environment, with the theory stage's fragments stubbed out.

    Formulas are cached under a folder shared by the whole module's environments,
    so each one is typeset once (typesetting is most of the rendering time).
    """
    registered = {fid: str(tmp_path / f"{fid}.svg") for fid in figures}
    math = MathRenderer(math_dir)
    env = make_environment(TEMPLATES, Figures(registered, tmp_path), math)
    stubs = {f"sections/{name}.html.j2": "" for name in FRAGMENTS}
    env.loader = ChoiceLoader([DictLoader(stubs), env.loader])
    return env


@pytest.fixture(scope="module")
def math_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One formula cache for the module's environments."""
    return tmp_path_factory.mktemp("math")


def render(env: Environment, name: str, results: dict[str, Any]) -> str:
    return env.get_template(f"sections/{name}.html.j2").render(r=results)


def visible_persian(fragment: str, formula: str = " ") -> str:
    """The right-to-left prose a reader sees: formulas as `formula`, no LTR runs, no tags."""
    text = IMG.sub(formula, fragment)
    text = LTR_SPAN.sub(" ", text)
    return html.unescape(TAG.sub(" ", text))


def parts_of(document: str, section: str) -> dict[str, str]:
    """The HTML of each <h2 id=...> part, up to the next h1/h2."""
    starts = [(m.group(1), m.start()) for m in re.finditer(r'<h2 id="([^"]+)"', document)]
    ends = [pos for _, pos in starts[1:]] + [len(document)]
    return {pid: document[start:end] for (pid, start), end in zip(starts, ends, strict=True)}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, math_dir: Path) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("written")
    env = environment(tmp, math_dir, FIGURE_IDS)
    results = with_claims(stand_in_results())
    return {name: render(env, name, results) for name in (*MINE, "references")}


@pytest.fixture(scope="module")
def rendered_empty(tmp_path_factory: pytest.TempPathFactory, math_dir: Path) -> dict[str, str]:
    """As in a run before any result exists: only `meta`, no figures."""
    tmp = tmp_path_factory.mktemp("written_empty")
    env = environment(tmp, math_dir)
    return {name: render(env, name, {"meta": {}}) for name in (*MINE, "references")}


@pytest.mark.parametrize("section", MINE)
def test_every_part_has_a_heading_and_a_real_answer(
    rendered: dict[str, str], rendered_empty: dict[str, str], section: str
) -> None:
    for document in (rendered[section], rendered_empty[section]):
        assert f'<h1 id="{section}"' in document
        parts = parts_of(document, section)
        answered = [pid for pid in parts if pid in PARTS[section]]
        assert answered == PARTS[section], f"{section}: parts {list(parts)} out of order or missing"
        for pid in PARTS[section]:
            words = PERSIAN_WORD.findall(visible_persian(parts[pid]))
            assert len(words) >= 60, f"{pid}: only {len(words)} Persian words"


def test_q2_parts_quote_their_question(rendered: dict[str, str]) -> None:
    parts = parts_of(rendered["q2"], "q2")
    for pid in PARTS["q2"]:
        assert '<blockquote class="question">' in parts[pid], f"{pid} does not quote its question"


def test_every_cited_key_is_in_the_reference_list(tmp_path: Path, math_dir: Path) -> None:
    references = (TEMPLATES / "sections" / "references.html.j2").read_text(encoding="utf-8")
    listed = re.findall(r'<li id="ref-([^"]+)"', references)
    assert len(listed) == len(set(listed)), "a reference key is listed twice"
    assert set(listed) >= REQUIRED_KEYS, f"missing keys: {sorted(REQUIRED_KEYS - set(listed))}"
    cited: set[str] = set()
    for name in MINE:
        source = (TEMPLATES / "sections" / f"{name}.html.j2").read_text(encoding="utf-8")
        for call in re.findall(r"cite\(([^)]*)\)", source):
            cited.update(re.findall(r'"([^"]+)"', call))
    assert cited, "the answers cite nothing"
    assert cited <= set(listed), f"cited but not listed: {sorted(cited - set(listed))}"
    # And as rendered: every citation link lands on an entry (the report's own check).
    env = environment(tmp_path, math_dir)
    document = "\n".join(render(env, n, {"meta": {}}) for n in (*MINE, "references"))
    check_links(document)


def test_reference_entries_are_complete() -> None:
    references = (TEMPLATES / "sections" / "references.html.j2").read_text(encoding="utf-8")
    assert '<h1 id="references">' in references
    assert '<ol class="references">' in references
    for key, body in re.findall(r'<li id="ref-([^"]+)">(.*?)</li>', references, re.S):
        found = re.search(r"(?:19|20)[0-9]{2}", key)
        assert found, f"{key}: the key should carry the year"
        year = found.group(0)
        assert year in body, f"{key}: the entry does not state its year {year}"
        assert "“" in body or "<i>" in body, f"{key}: no title"
        assert "," in body, f"{key}: no author list"


def test_measured_numbers_come_from_the_context(rendered: dict[str, str]) -> None:
    r = stand_in_results()
    q2, q3, q4 = rendered["q2"], rendered["q3"], rendered["q4"]
    gb = r["q6b"]["models"]
    add = r["theory"]["addition"]
    timing = r["theory"]["parallelism"]["longest"]
    expected = {
        "q2": [
            persian.sci(gb["rnn"]["trained"]["curves"]["h"]["ratio_first_last"], 1),
            persian.sci(gb["lstm"]["trained"]["curves"]["h"]["ratio_first_last"], 1),
            persian.num(gb["rnn"]["trained"]["curves"]["h"]["factor_per_step"], 3),
            "۳۷ گام",
            persian.num(r["imdb"]["vocab_size"], 0, thousands=True),
            persian.num(r["imdb"]["vocab_size"] * 96, 0, thousands=True),
            persian.pct(r["q6c"]["models"]["rnn"]["h"]["late_mean_over_bound"], 1),
            persian.pct(add["rnn"]["accuracy"]["8"], 1),
            persian.pct(add["mlp"]["accuracy"]["8"], 1),
            persian.num(add["mlp"]["params"], 0, thousands=True),
            persian.pct(add["by_length"][1]["rnn"]["exact"], 1),
            persian.num(timing["rnn_ms"], 1),
            persian.num(timing["rnn_slowdown_vs_conv"], 1),
            "Stand-in CPU",
            persian.num(-13.81, 1, sign=True),
            persian.num(10.51, 1, sign=True),
            persian.num(2.31, 2),
            "خطای MSE آزمون را\nبه‌طور معنی‌دار بیشتر از LSTM کرد",
        ],
        "q3": [
            "۳۷ گام",
            persian.num(52033, 0, thousands=True),
            persian.num(39041 / 52033, 3),
            "به‌طور معنی‌دار کمتر از LSTM",
        ],
        "q4": [
            persian.pct(0.5731, 1),
            persian.pct(0.8649, 1),
            persian.num(231.7, 0),
            persian.num(457.0, 0),
        ],
    }
    for name, document in (("q2", q2), ("q3", q3), ("q4", q4)):
        for text in expected[name]:
            assert str(text) in document, f"{name}: {text!r} (from the context) not in the page"
    # The censored LSTM horizon is reported as the whole window, not as a number of steps.
    assert "هرگز زیر آستانه نرفت" in q2
    # Figures are cited by number only when registered.
    assert 'href="#q6b_gradients"' in q2


def test_sections_render_without_results(rendered_empty: dict[str, str]) -> None:
    for name in MINE:
        document = rendered_empty[name]
        assert 'href="#q6b_gradients"' not in document
        assert not re.search(r"[0-9]\.[0-9]", visible_persian(document))


def test_comparisons_follow_the_numbers(tmp_path: Path, math_dir: Path) -> None:
    """Each comparative sentence follows its claim, recomputed from changed numbers."""
    env = environment(tmp_path, math_dir)
    r = stand_in_results()
    original = render(env, "q2", with_claims(r))
    assert "دقیق‌تر هم هست" in original
    assert "کندتر بود" in original
    assert "LSTM سیگنال خطا را تا گام‌های دورتری" in original
    assert "RNN ساده از متن بلندتر کمتر سود برد" in original
    q4 = render(env, "q4", with_claims(r))
    assert "نیاز به سلول دروازه‌دار را روی همین داده نشان می‌دهد" in q4
    # Both gain, the RNN more; and at 400 words the RNN is ahead (seed by seed).
    for run in r["q6a"]["runs"]:
        if run["model"] == "rnn" and run["length"] == 400:
            run["test_acc"] = 0.9 + 0.002 * run["seed"]
    r["q6a"]["trend"]["rnn"]["change"] = 0.1888
    r["q6a"]["comparison"][-1]["rnn"] = 0.9
    assert "RNN ساده بیشتر از LSTM از متن بلندتر سود برد" in render(env, "q2", with_claims(r))
    assert "RNN ساده بهتر بود" in render(env, "q4", with_claims(r))
    r["q6b"]["ranking"]["longer_memory"] = "rnn"
    r["theory"]["addition"]["mlp"]["accuracy"]["8"] = 0.99995
    flipped = render(env, "q2", with_claims(r, rnn_times=(5.0, 5.1, 5.2)))
    assert "دقیق‌تر هم هست" not in flipped
    assert "MLP دقیق‌تر است" in flipped
    assert "RNN کندتر نبود" in flipped
    assert "LSTM سیگنال خطا را تا گام‌های دورتری" not in flipped
    assert "برخلاف انتظار نظری" in flipped
    noisy = render(env, "q2", with_claims(r, rnn_times=(2.0, 6.0, 11.0)))
    assert "در محدودهٔ نوسان تکرارهای اندازه‌گیری" in noisy


@pytest.mark.parametrize("section", (*MINE, "references"))
def test_persian_typography(rendered: dict[str, str], section: str) -> None:
    source = (TEMPLATES / "sections" / f"{section}.html.j2").read_text(encoding="utf-8")
    # Arabic yeh and kaf look alike but break Persian search and shaping.
    assert "\u064a" not in source and "\u0643" not in source, "Arabic ي/ك instead of Persian ی/ک"
    if section == "references":
        return
    prose = visible_persian(rendered[section])
    # Persian punctuation in Persian prose: no Latin comma, semicolon or question mark.
    latin_punct = re.findall(r"[\u0600-\u06ff][^\S\n]*[,;?]", prose)
    assert not latin_punct, f"Latin punctuation after Persian text: {latin_punct[:5]}"
    # The verb prefix می is joined with ZWNJ, never with a space or glued.
    assert not re.search(r"(?<![\u0600-\u06ff])می (?=[\u0600-\u06ff])", prose)
    glued = re.findall(r"(?<![\u0600-\u06ff])می(?:شو|کن|ده|گیر|توان|رس|یاب|خوا|ماند)", prose)
    assert not glued, f"می without ZWNJ: {glued[:5]}"
    # Plural ها after a final ه needs a ZWNJ (لایه‌ها, not لایهها).
    assert not re.search(r"[\u0600-\u06ff]هها", prose)
    # A sentence or a formula never runs into the next word: Jinja's trim_blocks eats the
    # newline after a block tag ({% endif %}, {% endcall %}) that ends a line.
    marked = visible_persian(rendered[section], formula="\ufffc")
    glued = re.findall(
        r".{0,12}(?:[.،؛؟!\ufffc][\u0621-\u06cc]|[\u0600-\u06ff]\ufffc|[\u0600-\u06ff]\().{0,12}",
        marked,
    )
    assert not glued, f"missing space: {glued[:5]}"
    # Digits in Persian prose are Persian; Latin digits belong in formulas and LTR runs only.
    latin_digits = re.findall(r".{0,12}[0-9].{0,12}", prose)
    assert not latin_digits, f"Latin digits in Persian prose: {latin_digits[:5]}"


@pytest.mark.parametrize("section", MINE)
def test_display_formulas_fit_the_text_width(rendered: dict[str, str], section: str) -> None:
    # A4 with 2 cm margins leaves 17 cm = 642 CSS px; a wider formula is cut at the margin.
    images = [
        m.group(0) for m in IMG.finditer(rendered[section]) if "displaymath-img" in m.group(0)
    ]
    assert images, f"{section}: no display formulas found"
    widths = [re.search(r"width:\s*([0-9.]+)px", image).group(1) for image in images]
    too_wide = [float(w) for w in widths if float(w) > 620]
    assert not too_wide, f"{section}: display formulas wider than the text: {too_wide}"


def test_prose_reads_the_keys_the_producers_write(tmp_path: Path, math_dir: Path) -> None:
    """The guarded paragraphs must fire on summaries built by the producing code itself.

    A guard that silently skips a paragraph would hide a renamed key; here the
    theory and Q6-B parts of `r` come from the functions that write them, and the
    sentences that read them must appear.
    """
    import numpy as np
    import pandas as pd

    from rnnlab.probes.gradients import _ranking, describe_curve
    from rnnlab.probes.hidden import summarise_model
    from rnnlab.theory.summary import addition_headline, parallelism_headline

    def scored(exact: float) -> dict[str, float]:
        return {"exact": exact, "bit": exact, "count": 10}

    addition = {
        "config": {"train_bits": 4},
        "models": {"rnn": {"params": 37}, "mlp": {"params": 912}},
        "by_length": [
            {"bits": 4, "rnn": scored(0.97), "mlp": scored(0.61), "chance_exact": 0.5**5},
            {"bits": 8, "rnn": scored(0.93), "mlp": None, "chance_exact": 0.5**9},
        ],
        "pairs_train": 64,
        "pairs_total": 256,
        "train_share": 0.25,
    }
    rows = [
        {"op": op, "length": 16, "best_ms": ms, "times_ms": [ms, ms * 1.01, ms * 1.02]}
        for op, ms in (("rnn", 4.5), ("conv", 0.5), ("matmul", 0.25))
    ]
    parallelism = {
        "devices": ["cpu"],
        "by_device": {
            "cpu": {
                "hardware": {"cpu_model": "Fixture CPU", "torch_threads": 1},
                "rows": rows,
                "longest": 16,
            }
        },
    }
    steps = np.arange(20)
    rnn_norms = np.vstack([0.5 ** steps[::-1], 0.4 ** steps[::-1]])  # steep decay back in time
    lstm_norms = np.vstack([0.97 ** steps[::-1], 0.96 ** steps[::-1]])
    models = {
        "rnn": {"trained": {"curves": {"h": describe_curve(rnn_norms, 1e-3)}}},
        "lstm": {"trained": {"curves": {"h": describe_curve(lstm_norms, 1e-3)}}},
    }
    # Q6-C: two reviews (one per class) of 30 steps, an RNN whose state norm settles.
    trajectory = pd.DataFrame(
        {
            "key": ["neg"] * 30 + ["pos"] * 30,
            "label": [0] * 30 + [1] * 30,
            "step": list(range(1, 31)) * 2,
            "h_norm": [2.0 + 0.01 * s for s in range(30)] * 2,
            "h_step": [0.05] * 60,
            "h_cos": [0.99] * 60,
            "saturated_share": [0.3] * 60,
            "c_norm": [float("nan")] * 60,
        }
    )
    hidden_rnn = summarise_model(
        trajectory, hidden_size=16, report_steps=[1, 10, 30], common_steps=30
    )

    results = {
        "meta": {},
        "q6c": {"saturation_level": 0.9, "models": {"rnn": hidden_rnn}},
        "theory": {
            "addition": {**addition, **addition_headline(addition)},
            "parallelism": {**parallelism, **parallelism_headline(parallelism)},
        },
        "q6b": {
            "length": 20,
            "horizon_threshold": 1e-3,
            "models": models,
            "ranking": _ranking(models),
        },
    }
    from rnnlab import claims as cl
    from rnnlab.report import xref
    from rnnlab.theory.claims import device_claims

    timing = device_claims("cpu", parallelism["by_device"]["cpu"])
    results["claims"] = {"theory": cl.collect(*timing)}
    results["claims"]["xref"] = xref.claims(results)
    env = environment(tmp_path, math_dir)
    q2 = render(env, "q2", results)
    assert "آزمایش این پروژه این را عددی نشان می‌دهد" in q2
    assert persian.pct(0.93, 1) in q2  # RNN on 8-bit numbers it never saw
    assert "اندازه‌گیری این پروژه روی" in q2 and "Fixture CPU" in q2
    assert persian.num(4.5 / 0.5, 1) in q2
    assert "آزمایش B سؤال ۶ همین را اندازه گرفت" in q2
    assert "در آزمایش C سؤال ۶، نُرم حالت پنهان RNN ساده" in q2
    assert persian.pct(hidden_rnn["h"]["late_mean_over_bound"], 1) in q2
    assert "LSTM سیگنال خطا را تا گام‌های دورتری" in q2
    rnn_horizon = models["rnn"]["trained"]["curves"]["h"]["horizon_steps"]
    assert f"(میانگین هندسی) به‌ترتیب {persian.fa(rnn_horizon)} گام" in " ".join(q2.split())
    assert "میدان مؤثر RNN ساده" in render(env, "q3", results)


@pytest.mark.parametrize("section", MINE)
def test_no_word_is_glued_to_a_block_tag(section: str) -> None:
    """trim_blocks eats the newline after a block tag that ends a line: when that line
    also carries text, the next line must start with a space or punctuation, or the
    last word of one line runs into the first word of the next ("LSTMداشت")."""
    lines = (TEMPLATES / "sections" / f"{section}.html.j2").read_text(encoding="utf-8").split("\n")
    ends_with_tag = re.compile(
        r"\{%-?\s*(?:end\w+|else|elif\b[^%]*|if\b[^%]*|for\b[^%]*|call\b[^%]*)-?%\}$"
    )
    glued = [
        f"line {number}: …{line[-30:]} | {following[:20]}…"
        for number, (line, following) in enumerate(zip(lines, lines[1:], strict=False), start=1)
        if ends_with_tag.search(line)
        and re.sub(r"\{%.*?%\}", "", line).strip()  # the line has text besides tags
        and following
        and not re.match(r"[\s{.،؛:)<]", following)
    ]
    assert not glued, f"{section}: {glued}"
