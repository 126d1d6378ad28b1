"""Q6-A prose follows the claims: synthetic results that flip a verdict flip the sentence."""

from __future__ import annotations

import pytest
from q6_fakes import write_baseline, write_runs
from q6_render import render_section

from rnnlab.sentiment.summary import aggregate

LSTM_AHEAD = {
    ("rnn", 50): [0.70, 0.71, 0.69],
    ("lstm", 50): [0.74, 0.75, 0.76],
    ("rnn", 400): [0.72, 0.73, 0.74],
    ("lstm", 400): [0.88, 0.87, 0.89],
}
TIED = {
    ("rnn", 50): [0.70, 0.74, 0.66],
    ("lstm", 50): [0.71, 0.69, 0.72],
    ("rnn", 400): [0.80, 0.84, 0.76],
    ("lstm", 400): [0.81, 0.79, 0.80],
}


def q6_text(tmp_path, accs, baseline=None, report=None):
    metrics, preds = write_runs(tmp_path / "runs", accs)
    base = write_baseline(tmp_path / "baseline", baseline) if baseline else (None, None)
    summary = aggregate(metrics, preds, *base)[1]
    return render_section(tmp_path, "q6", {"q6a": summary}, blank=("q6_b", "q6_c"), report=report)


@pytest.mark.parametrize(
    ("accs", "expected", "absent"),
    [
        (LSTM_AHEAD, "LSTM بهتر است (اختلاف", "تمیزدادنی نیستند (بازهٔ ۹۵٪"),
        (TIED, "دو مدل روی بذرها تمیزدادنی نیستند", "LSTM بهتر است (اختلاف"),
    ],
)
def test_lstm_vs_rnn_sentence_follows_the_seed_claim(tmp_path, accs, expected, absent):
    text = q6_text(tmp_path, accs)
    assert expected in text and absent not in text


def test_one_seed_says_the_spread_is_unknown(tmp_path):
    one = {key: values[0] for key, values in LSTM_AHEAD.items()}
    text = q6_text(tmp_path, one)
    assert "با یک بذر، پراکندگی بذرها نامعلوم است" in text
    assert "یک بذر (پراکندگی بذرها نامعلوم)" in text
    assert "LSTM بهتر است (اختلاف" not in text
    assert "بذر ۰ LSTM بهتر" in text  # McNemar still reads the one trained pair


def test_trend_sentences_follow_their_claims(tmp_path):
    text = q6_text(tmp_path, LSTM_AHEAD)
    assert "دقت LSTM با بلندتر شدن ورودی بالا می‌رود" in text
    flat = dict(LSTM_AHEAD)
    flat[("lstm", 400)] = [0.75, 0.74, 0.76]
    flat[("lstm", 50)] = [0.74, 0.76, 0.75]
    text = q6_text(tmp_path / "flat", flat)
    assert "دقت LSTM با بلندتر شدن ورودی روند تمیزدادنی از صفر ندارد" in text


def test_cap_sentence_says_when_the_cap_binds(tmp_path):
    text = q6_text(tmp_path, LSTM_AHEAD)
    assert "سقف در هیچ اجرایی تعیین‌کننده نبود" in text


def test_a_draft_run_does_not_present_its_cap_as_chosen_on_validation(tmp_path):
    scanned = "سقف دوره‌ها و صبر توقف با منحنی‌های اعتبارسنجی انتخاب شدند"
    lowered = "در این اجرای پیش‌نویس سقف دوره‌ها برای کوتاه شدن اجرا پایین آورده شده است"
    full = q6_text(tmp_path / "full", LSTM_AHEAD)
    assert scanned in full and lowered not in full
    draft = q6_text(tmp_path / "draft", LSTM_AHEAD, report={"draft": True})
    assert lowered in draft and scanned not in draft


def test_baseline_sentence_follows_mcnemar(tmp_path):
    text = q6_text(tmp_path, LSTM_AHEAD, baseline={50: 0.85, 400: 0.80})
    assert "در طول ۵۰ مبنا ۸۵٫۰٪" in text and "مبنا بهتر است" in text
    assert "شبکه بهتر است" in text  # at 400 the LSTM (0.88) beats 0.80


# ---------------------------------------------------------------- Q6-B and Q6-C prose


@pytest.fixture(scope="module")
def probe_results(tmp_path_factory):
    """q6b and q6c summaries measured on tiny fixture models (two seeds for Q6-B)."""
    import json

    from test_probes_commands import GRADIENT_PARAMS, HIDDEN_PARAMS, checkpoint, encoded_data

    from rnnlab.probes import gradients, hidden

    root = tmp_path_factory.mktemp("q6probes")
    encoded = encoded_data(root / "encoded.pt")
    ckpt = {
        (m, s): checkpoint(root / f"{m}_s{s}.pt", m, seed=10 * s + i)
        for s in (0, 1) for i, m in enumerate(("rnn", "lstm"))
    }  # fmt: skip
    gradients._main(
        ["measure", "--encoded", str(encoded), "--trained",
         *(f"{m}:s{s}={p}" for (m, s), p in ckpt.items()),
         "--steps-csv", str(root / "steps.csv"), "--batch-csv", str(root / "batch.csv"),
         "--summary", str(root / "q6b.json"), "--params", json.dumps(GRADIENT_PARAMS)]
    )  # fmt: skip
    hidden._main(
        ["measure", "--encoded", str(encoded), "--trained",
         f"rnn={ckpt[('rnn', 0)]}", f"lstm={ckpt[('lstm', 0)]}",
         "--norms-csv", str(root / "norms.csv"), "--reviews-csv", str(root / "reviews.csv"),
         "--summary", str(root / "q6c.json"), "--params", json.dumps(HIDDEN_PARAMS)]
    )  # fmt: skip
    return {
        "q6b": json.loads((root / "q6b.json").read_text()),
        "q6c": json.loads((root / "q6c.json").read_text()),
    }


def flipped(results: dict, part: str, cid: str, verdict: str, **extra) -> dict:
    import copy

    out = copy.deepcopy(results)
    out[part]["claims"][cid].update(verdict=verdict, **extra)
    return out


@pytest.mark.parametrize(
    ("verdict", "phrase"),
    [
        ("a_better", "LSTM گرادیان را تا ابتدای پنجره بهتر از RNN ساده حفظ می‌کند"),
        ("b_better", "RNN ساده گرادیان را بهتر از LSTM حفظ می‌کند"),
        ("indistinguishable", "دو مدل در حفظ گرادیان روی بذرها تمیزدادنی نیستند"),
    ],
)
def test_q6b_decay_sentence_follows_the_claim(tmp_path, probe_results, verdict, phrase):
    results = flipped(probe_results, "q6b", "q6b.decay.lstm_vs_rnn.arithmetic", verdict,
                      reason="welch")  # fmt: skip
    text = render_section(tmp_path, "q6_b", results)
    assert phrase in text
    assert "dL/dh" not in text


@pytest.mark.parametrize(
    ("verdict", "phrase"),
    [
        ("below", "آخر است: محو می‌شود"),
        ("above", "در این پنجره محو نمی‌شود"),
    ],
)
def test_q6b_vanishing_sentence_follows_the_claim(tmp_path, probe_results, verdict, phrase):
    results = flipped(probe_results, "q6b", "q6b.vanishes.rnn.arithmetic", verdict)
    assert phrase in render_section(tmp_path, "q6_b", results)


@pytest.mark.parametrize(
    ("cid", "verdict", "phrase"),
    [
        ("q6c.turns.rnn", "above", "پس ثابت بودن نرم به معنای ایستادن حالت نیست"),
        ("q6c.turns.rnn", "below", "حالت در گام‌های پایانی تقریباً نمی‌چرخد"),
        ("q6c.moves_more.rnn_vs_lstm", "a_better", "بخش بزرگ‌تری از حالت RNN ساده را بازنویسی"),
        ("q6c.moves_more.rnn_vs_lstm", "indistinguishable", "در دو مدل تمیزدادنی نیست"),
        ("q6c.cell_trend.lstm", "increases", "نرم حالت سلول LSTM در طول نقد بالا می‌رود"),
        ("q6c.cell_trend.lstm", "flat", "حالت سلول LSTM در طول نقد روند تمیزدادنی از صفر ندارد"),
        ("q6c.class_gap.lstm", "b_better", "در نقدهای منفی بزرگ‌تر است"),
    ],
)
def test_q6c_sentences_follow_their_claims(tmp_path, probe_results, cid, verdict, phrase):
    results = flipped(probe_results, "q6c", cid, verdict)
    assert phrase in render_section(tmp_path, "q6_c", results)


def test_probe_claims_recompute(probe_results):
    from rnnlab import claims

    results = {**probe_results, "claims": {k: v["claims"] for k, v in probe_results.items()}}
    assert claims.check_claims(results) == []
