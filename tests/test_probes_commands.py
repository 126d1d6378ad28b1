"""The Q6-B and Q6-C commands on a tiny encoded data set and tiny checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.errors import RnnlabError
from rnnlab.probes import gradients, hidden
from rnnlab.probes.gradients import initial_model
from rnnlab.runtime import save_torch, seed_everything, write_json
from rnnlab.sentiment.models import SentimentRNN, load_checkpoint

VOCAB = 30
LENGTH = 200  # the window of Q6-B, as in the homework
HIDDEN = 6


def encoded_data(path: Path, max_length: int = 240) -> Path:
    """An encoded.pt in the data stage's format: long and short reviews of both classes."""
    generator = torch.Generator().manual_seed(3)
    data: dict = {
        "vocab_size": VOCAB,
        "pad_id": 0,
        "unk_id": 1,
        "max_length": max_length,
        "truncation": "head",
    }
    for part, n in (("train", 8), ("val", 16), ("test", 24)):
        # Half the rows are long enough for every probe; the rest are too short for Q6-B.
        lengths = torch.where(
            torch.arange(n) % 2 == 0,
            torch.randint(LENGTH, 320, (n,), generator=generator),
            torch.randint(20, 140, (n,), generator=generator),
        )
        ids = torch.zeros(n, max_length, dtype=torch.int32)
        for row, count in enumerate(lengths.tolist()):
            stored = min(count, max_length)
            ids[row, :stored] = torch.randint(2, VOCAB, (stored,), generator=generator).int()
        data[part] = {
            "ids": ids,
            "lengths": lengths.long(),
            "labels": (torch.arange(n) // 2 % 2).long(),
            "keys": [f"{part}/{i}" for i in range(n)],
        }
    save_torch(path, data)
    return path


def checkpoint(path: Path, cell: str, seed: int) -> Path:
    """A checkpoint as sentiment training writes it: seed, config, weights moved off the init."""
    seed_everything(seed)
    model = SentimentRNN(vocab_size=VOCAB, embed_dim=5, hidden_size=HIDDEN, cell=cell)
    with torch.no_grad():
        for param in model.parameters():
            param.mul_(1.5)  # "training": the checkpoint must differ from the initial weights
    save_torch(
        path,
        {
            "model_config": model.config,
            "model_state": model.state_dict(),
            "model": cell,
            "length": LENGTH,
            "seed": seed,
        },
    )
    return path


def font_manifest(folder: Path) -> Path:
    """A manifest naming matplotlib's bundled DejaVu Sans (no Persian glyphs; fine for a test)."""
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    bold = font.with_name("DejaVuSans-Bold.ttf")
    path = folder / "fonts.json"
    write_json(
        path,
        {
            "family": "DejaVu Sans",
            "regular": str(font),
            "bold": str(bold),
            "variable": False,
            "source": "test",
        },
    )
    return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("probes")
    return {
        "root": root,
        "encoded": encoded_data(root / "encoded.pt"),
        "rnn": checkpoint(root / "rnn.pt", "rnn", seed=11),
        "lstm": checkpoint(root / "lstm.pt", "lstm", seed=12),
        "font": font_manifest(root),
    }


GRADIENT_PARAMS = {
    "length": LENGTH,
    "split": "val",
    "batch_size": 4,
    "seed": 0,
    "horizon_threshold": 1e-3,
    "initial_weights": True,
}
HIDDEN_PARAMS = {
    "split": "test",
    "per_class": 5,
    "min_tokens": 150,
    "seed": 0,
    "report_steps": [1, 50, 150],
    "saturation_level": 0.9,
    "train_length": LENGTH,  # reviews up to 240 tokens outgrow it: the marker is drawn
}


def run_gradients(ws: dict[str, Path], out: Path, **overrides: object) -> dict:
    params = {**GRADIENT_PARAMS, **overrides}
    gradients._main(
        [
            "measure",
            "--encoded",
            str(ws["encoded"]),
            "--trained",
            f"rnn={ws['rnn']}",
            f"lstm={ws['lstm']}",
            "--steps-csv",
            str(out / "steps.csv"),
            "--batch-csv",
            str(out / "batch.csv"),
            "--summary",
            str(out / "summary.json"),
            "--params",
            json.dumps(params),
        ]
    )
    return json.loads((out / "summary.json").read_text())


def test_gradient_measure_writes_full_nonzero_curves(
    workspace: dict[str, Path], tmp_path: Path
) -> None:
    summary = run_gradients(workspace, tmp_path)
    steps = pd.read_csv(tmp_path / "steps.csv")
    expected = {("rnn", "h"), ("rnn", "x"), ("lstm", "h"), ("lstm", "x"), ("lstm", "c")}
    for weights in ("trained", "initial"):
        rows = steps[steps["weights"] == weights]
        assert set(zip(rows["model"], rows["quantity"], strict=True)) == expected
        for (_, _), group in rows.groupby(["model", "quantity"]):
            assert group["step"].tolist() == list(range(1, LENGTH + 1))
            values = group[["mean", "median", "q10", "q90", "min", "max", "geomean"]].to_numpy()
            assert np.isfinite(values).all() and (values > 0).all()
            assert (group["q10"] <= group["q90"]).all()
    batch = pd.read_csv(tmp_path / "batch.csv")
    assert len(batch) == 4 and batch["label"].sum() == 2 and (batch["n_tokens"] >= LENGTH).all()
    for name in ("rnn", "lstm"):
        entry = summary["models"][name]
        assert entry["fused_max_rel_diff"] < 1e-9
        curve = entry["trained"]["curves"]["h"]
        assert curve["zero_entries"] == 0 and curve["finite"]
        assert 0 <= curve["horizon_steps"] <= LENGTH - 1
        assert curve["ratio_first_last"] == pytest.approx(curve["first"] / curve["last"])
        # Training changed the weights, so the curves must differ from the initial ones.
        assert curve["first"] != entry["initial"]["curves"]["h"]["first"]
    assert summary["ranking"]["longer_memory"] in {"rnn", "lstm"}
    # Same inputs, same numbers: the batch choice and the measurement are deterministic.
    again = tmp_path / "again"
    again.mkdir()
    assert run_gradients(workspace, again) == summary
    assert (again / "steps.csv").read_bytes() == (tmp_path / "steps.csv").read_bytes()


def test_gradient_plot_writes_svg(workspace: dict[str, Path], tmp_path: Path) -> None:
    run_gradients(workspace, tmp_path, initial_weights=False)
    figure = tmp_path / "gradients.svg"
    gradients._main(
        [
            "plot",
            "--steps-csv",
            str(tmp_path / "steps.csv"),
            "--summary",
            str(tmp_path / "summary.json"),
            "--font",
            str(workspace["font"]),
            "--figure",
            str(figure),
        ]
    )
    assert figure.read_text().lstrip().startswith("<?xml")


def test_gradient_figure_is_the_one_the_homework_asks_for(
    workspace: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Steps 1..L on x, log-scale y, Simple RNN and LSTM side by side."""
    from rnnlab.probes.figures import plot_gradients
    from rnnlab.style import plots

    summary = run_gradients(workspace, tmp_path)
    saved = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: saved.append(fig))
    plot_gradients(pd.read_csv(tmp_path / "steps.csv"), summary, workspace["font"], "unused.svg")
    (fig,) = saved
    axes = [ax for ax in fig.axes if ax.lines]
    assert [ax.get_title() for ax in axes][:2] == [
        plots.MODEL_LABELS["rnn"],
        plots.MODEL_LABELS["lstm"],
    ]
    assert len(axes) == 3  # the untrained reference in a panel of its own
    # Each panel has its own y-range (one shared axis flattened the LSTM's decay).
    assert axes[0].get_ylim() != axes[1].get_ylim()
    legend_text = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert legend_text and not any("dL/d" in t for t in legend_text)
    for ax in axes:
        assert ax.get_yscale() == "log"
        assert ax.get_xlim() == (1, LENGTH)
        assert all(
            len(line.get_xdata()) == LENGTH for line in ax.lines if len(line.get_xdata()) > 2
        )
    # The trained dL/dh_t curve is drawn in the model's colour.
    assert any(line.get_color() == plots.MODEL_COLORS["lstm"] for line in axes[1].lines)


def test_gradient_statistics_and_seeds(workspace: dict[str, Path], tmp_path: Path) -> None:
    """Arithmetic, geometric and median per seed, the spread over seeds and the claims."""
    second = {
        name: checkpoint(workspace["root"] / f"{name}_s1.pt", name, seed=21 + i)
        for i, name in enumerate(("rnn", "lstm"))
    }
    gradients._main(
        [
            "measure", "--encoded", str(workspace["encoded"]),
            "--trained", f"rnn:s0={workspace['rnn']}", f"lstm:s0={workspace['lstm']}",
            f"rnn:s1={second['rnn']}", f"lstm:s1={second['lstm']}",
            "--steps-csv", str(tmp_path / "steps.csv"), "--batch-csv", str(tmp_path / "b.csv"),
            "--summary", str(tmp_path / "s.json"), "--params", json.dumps(GRADIENT_PARAMS),
        ]
    )  # fmt: skip
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["run_seeds"] == [0, 1] and summary["n_seeds"] == 2
    for name in ("rnn", "lstm"):
        entry = summary["models"][name]
        assert set(entry["seeds"]) == {"0", "1"}
        assert "initial" in entry["seeds"]["0"] and "initial" not in entry["seeds"]["1"]
        curve = entry["seeds"]["1"]["trained"]["curves"]["h"]
        for stat in ("arithmetic", "geometric", "median"):
            assert 0 <= curve[stat]["horizon_steps"] <= LENGTH - 1
            assert entry["spread"][stat]["horizon_steps"]["n"] == 2
        assert curve["geometric"]["ratio_first_last"] == curve["ratio_first_last"]
    found = summary["claims"]
    for stat in ("arithmetic", "geometric", "median"):
        assert found[f"q6b.horizon.lstm_vs_rnn.{stat}"]["kind"] == "seeds"
        assert found[f"q6b.vanishes.rnn.{stat}"]["verdict"] in {"above", "below"}
    assert set(summary["claim_ids"]) == set(found)
    steps = pd.read_csv(tmp_path / "steps.csv")
    assert set(steps["seed"]) == {0, 1}


def test_initial_model_rebuilds_the_weights_before_training(workspace: dict[str, Path]) -> None:
    trained = load_checkpoint(workspace["lstm"])
    initial = initial_model(workspace["lstm"])
    seed_everything(12)
    reference = SentimentRNN(vocab_size=VOCAB, embed_dim=5, hidden_size=HIDDEN, cell="lstm")
    for (name, param), ref in zip(
        initial.state_dict().items(), reference.state_dict().values(), strict=True
    ):
        assert torch.equal(param, ref), name
        assert torch.equal(trained.state_dict()[name], ref * 1.5), name


def test_initial_model_matches_what_the_trainer_starts_from(
    workspace: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contract with rnnlab.sentiment.train: its first model is the one `initial_model` rebuilds."""
    from rnnlab.sentiment import train

    born: list[dict[str, torch.Tensor]] = []

    class Recording(SentimentRNN):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            born.append({k: v.clone() for k, v in self.state_dict().items()})

    monkeypatch.setattr(train, "SentimentRNN", Recording)
    hyper = train.Hyper.from_dict(
        {"embed_dim": 4, "hidden_size": 3, "batch_size": 8, "max_epochs": 1, "bucket_pool": 1}
    )
    train.train_run(
        workspace["encoded"], "rnn", 30, 5, hyper, tmp_path / "run", log=lambda _msg: None
    )
    rebuilt = initial_model(tmp_path / "run" / "best.pt").state_dict()
    assert born, "the trainer built no model"
    for name, value in born[0].items():
        assert torch.equal(rebuilt[name], value), name


def run_hidden(ws: dict[str, Path], out: Path, **overrides: object) -> dict:
    hidden._main(
        [
            "measure",
            "--encoded",
            str(ws["encoded"]),
            "--trained",
            f"rnn={ws['rnn']}",
            f"lstm={ws['lstm']}",
            "--norms-csv",
            str(out / "norms.csv"),
            "--reviews-csv",
            str(out / "reviews.csv"),
            "--summary",
            str(out / "summary.json"),
            "--params",
            json.dumps({**HIDDEN_PARAMS, **overrides}),
        ]
    )
    return json.loads((out / "summary.json").read_text())


def test_hidden_measure_reads_ten_reviews_at_natural_length(
    workspace: dict[str, Path], tmp_path: Path
) -> None:
    summary = run_hidden(workspace, tmp_path)
    reviews = pd.read_csv(tmp_path / "reviews.csv")
    assert len(reviews) == 10 and reviews["label"].tolist() == [1] * 5 + [0] * 5
    assert (reviews["n_tokens"] >= 150).all()
    # Natural length: every stored token, capped only by the stored width (240 here).
    assert (reviews["used_tokens"] == reviews["n_tokens"].clip(upper=240)).all()
    assert summary["capped"] == int((reviews["n_tokens"] > 240).sum())
    norms = pd.read_csv(tmp_path / "norms.csv")
    for (model, key), group in norms.groupby(["model", "key"]):
        used = int(reviews.loc[reviews["key"] == key, "used_tokens"].iloc[0])
        assert group["step"].tolist() == list(range(1, used + 1))
        assert (group["h_norm"] > 0).all() and np.isfinite(group["h_norm"]).all()
        assert (group["h_norm"] <= np.sqrt(HIDDEN) + 1e-12).all()
        if model == "lstm":
            assert (group["c_norm"] > 0).all()
        else:
            assert group["c_norm"].isna().all()
    assert norms.groupby("model")["key"].nunique().to_dict() == {"rnn": 10, "lstm": 10}
    lstm = summary["models"]["lstm"]
    assert set(lstm["h"]["at"]) == {"1", "50", "150"} and "c" in lstm
    assert "c" not in summary["models"]["rnn"]
    assert summary["models"]["rnn"]["bound"] == pytest.approx(np.sqrt(HIDDEN))
    assert lstm["c"]["growth"] == pytest.approx(
        lstm["c"]["at"]["150"]["all"] / lstm["c"]["at"]["1"]["all"]
    )
    again = tmp_path / "again"
    again.mkdir()
    assert run_hidden(workspace, again) == summary


def test_hidden_pairs_matched_lengths_and_claims_movement(
    workspace: dict[str, Path], tmp_path: Path
) -> None:
    """Q6-C pairs each positive with the negative nearest in length; movement is measured."""
    from rnnlab.probes.selection import select_matched

    summary = run_hidden(workspace, tmp_path)
    reviews = pd.read_csv(tmp_path / "reviews.csv")
    pos = reviews[reviews["label"] == 1]["used_tokens"].to_numpy()
    neg = reviews[reviews["label"] == 0]["used_tokens"].to_numpy()
    assert summary["length_gap"]["pairs"] == [int(g) for g in np.abs(pos - neg)]
    # Nearest-length pairing is never worse than the class-blind random draw's pairing.
    lengths = torch.tensor([10, 200, 205, 400, 390, 12, 199, 401])
    labels = torch.tensor([1, 1, 0, 1, 0, 0, 0, 0])
    rows = select_matched(lengths, labels, min_tokens=100, per_class=2, seed=0)
    picked = lengths[rows].tolist()
    assert sorted(picked[:2]) == picked[:2] and abs(picked[0] - picked[2]) <= 1
    assert abs(picked[1] - picked[3]) <= 1
    norms = pd.read_csv(tmp_path / "norms.csv")
    first = norms[norms["step"] == 1]
    assert first["h_step"].isna().all() and first["h_cos"].isna().all()
    later = norms[norms["step"] > 1]
    assert (later["h_step"] >= 0).all() and (later["h_cos"].abs() <= 1 + 1e-9).all()
    found = summary["claims"]
    for name in ("rnn", "lstm"):
        assert found[f"q6c.settles.{name}"]["kind"] == "seeds"
        assert found[f"q6c.turns.{name}"]["verdict"] in {"above", "below"}
        assert found[f"q6c.class_gap.{name}"]["evidence"]["n_seeds"] == [5, 5]
    assert "q6c.moves_more.rnn_vs_lstm" in summary["claim_ids"]


def test_hidden_selection_changes_with_seed_only(
    workspace: dict[str, Path], tmp_path: Path
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    keys_a = [r["key"] for r in run_hidden(workspace, first, seed=1)["reviews"]]
    keys_b = [r["key"] for r in run_hidden(workspace, second, seed=2)["reviews"]]
    assert keys_a != keys_b


def test_hidden_plot_writes_three_svgs(workspace: dict[str, Path], tmp_path: Path) -> None:
    run_hidden(workspace, tmp_path)
    paths = {name: tmp_path / f"{name}.svg" for name in ("hidden", "cell", "means")}
    hidden._main(
        [
            "plot",
            "--norms-csv",
            str(tmp_path / "norms.csv"),
            "--summary",
            str(tmp_path / "summary.json"),
            "--font",
            str(workspace["font"]),
            "--hidden-figure",
            str(paths["hidden"]),
            "--cell-figure",
            str(paths["cell"]),
            "--means-figure",
            str(paths["means"]),
        ]
    )
    for path in paths.values():
        assert path.read_text().lstrip().startswith("<?xml")


def test_bad_inputs_raise_clear_errors(workspace: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(RnnlabError, match="only .* reviews with >= 200 tokens"):
        run_gradients(workspace, tmp_path, batch_size=40)
    with pytest.raises(RnnlabError, match="must be even"):
        run_gradients(workspace, tmp_path, batch_size=3)
    with pytest.raises(RnnlabError, match="exceeds the stored encoding width"):
        run_gradients(workspace, tmp_path, length=500)
    with pytest.raises(RnnlabError, match="report_steps"):
        run_hidden(workspace, tmp_path, report_steps=[1, 200])
    with pytest.raises(RnnlabError, match="is missing; run the `imdb_encode` rule"):
        run_hidden({**workspace, "encoded": tmp_path / "missing.pt"}, tmp_path)
