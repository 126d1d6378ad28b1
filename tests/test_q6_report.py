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


def q6_text(tmp_path, accs, baseline=None):
    metrics, preds = write_runs(tmp_path / "runs", accs)
    base = write_baseline(tmp_path / "baseline", baseline) if baseline else (None, None)
    summary = aggregate(metrics, preds, *base)[1]
    return render_section(tmp_path, "q6", {"q6a": summary}, blank=("q6_b", "q6_c"))


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


def test_baseline_sentence_follows_mcnemar(tmp_path):
    text = q6_text(tmp_path, LSTM_AHEAD, baseline={50: 0.85, 400: 0.80})
    assert "در طول ۵۰ مبنا ۸۵٫۰٪" in text and "مبنا بهتر است" in text
    assert "شبکه بهتر است" in text  # at 400 the LSTM (0.88) beats 0.80
