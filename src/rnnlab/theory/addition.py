"""Q2-h: n-bit binary addition, an MLP against an RNN, as a small seeded experiment.

The RNN reads the two numbers one bit pair per step, least significant bit first, and
emits one sum bit per step (one extra step with a zero pair emits the final carry): the
same weights at every position, so the rule it learns (sum = a xor b xor carry) is not
tied to a length. The MLP sees both n-bit numbers at once (2n inputs, n+1 outputs): it
must learn every bit position separately and cannot accept a longer number at all.

Both train on a subset of the 2^(2n) pairs of n-bit numbers for n = `train_bits` and are
scored on the held-out pairs; the RNN is also scored on longer random numbers.
Accuracy is the share of sums with every bit right ("exact"); bit accuracy is reported
next to it.
"""

from __future__ import annotations

from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli, require_finite, seed_everything, set_threads, write_json
from rnnlab.theory.common import parse_args, require


def add_bits(a: Any, b: Any) -> Any:
    """Sum bits (n+1 of them, LSB first) of two bit tensors (count, n), by ripple carry."""
    import torch

    count, n = a.shape
    out = torch.zeros(count, n + 1, dtype=torch.long)
    carry = torch.zeros(count, dtype=torch.long)
    for i in range(n):
        total = a[:, i] + b[:, i] + carry
        out[:, i] = total % 2
        carry = total // 2
    out[:, n] = carry
    return out


def all_pairs(n_bits: int) -> tuple[Any, Any]:
    """Every pair of n-bit numbers as bit tensors (4^n rows, LSB first)."""
    import torch

    if n_bits > 10:
        raise RnnlabError(
            f"`theory.addition.train_bits` = {n_bits} would enumerate 4^{n_bits} pairs; "
            "use at most 10 bits for the training width."
        )
    values = torch.arange(2 ** (2 * n_bits))
    shifts = torch.arange(n_bits)
    a = (values[:, None] >> shifts) & 1
    b = (values[:, None] >> (shifts + n_bits)) & 1
    return a, b


def random_pairs(n_bits: int, count: int, generator: Any) -> tuple[Any, Any]:
    import torch

    a = torch.randint(0, 2, (count, n_bits), generator=generator)
    b = torch.randint(0, 2, (count, n_bits), generator=generator)
    return a, b


def build_models(n_bits: int, rnn_hidden: int, mlp_hidden: int) -> dict[str, Any]:
    """The two contenders: a bit-serial Elman RNN and a 2-hidden-layer MLP."""
    from torch import nn

    class BitSerialRNN(nn.Module):
        """Reads (a_i, b_i) at step i, emits the logit of sum bit i."""

        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.RNN(2, rnn_hidden, nonlinearity="tanh", batch_first=True)
            self.readout = nn.Linear(rnn_hidden, 1)

        def forward(self, a: Any, b: Any) -> Any:
            import torch

            # One extra step with a zero pair lets the net emit the final carry.
            pad = torch.zeros(a.shape[0], 1, dtype=a.dtype)
            steps = torch.stack([torch.cat([a, pad], 1), torch.cat([b, pad], 1)], dim=-1)
            hidden, _ = self.rnn(steps.float())
            return self.readout(hidden).squeeze(-1)

    class WholeNumberMLP(nn.Module):
        """Sees all 2n input bits at once, emits all n+1 sum-bit logits."""

        def __init__(self) -> None:
            super().__init__()
            self.n_bits = n_bits
            self.net = nn.Sequential(
                nn.Linear(2 * n_bits, mlp_hidden),
                nn.ReLU(),
                nn.Linear(mlp_hidden, mlp_hidden),
                nn.ReLU(),
                nn.Linear(mlp_hidden, n_bits + 1),
            )

        def forward(self, a: Any, b: Any) -> Any:
            import torch

            if a.shape[1] != self.n_bits:
                raise RnnlabError(
                    f"the MLP was built for {self.n_bits}-bit numbers and cannot take "
                    f"{a.shape[1]} bits: its input layer has a fixed width."
                )
            return self.net(torch.cat([a, b], dim=1).float())

    return {"rnn": BitSerialRNN(), "mlp": WholeNumberMLP()}


def score(model: Any, a: Any, b: Any, batch: int = 4096) -> dict[str, float]:
    """Exact-sum accuracy (all n+1 bits right) and bit accuracy."""
    import torch

    exact = bits_right = 0
    with torch.no_grad():
        for start in range(0, a.shape[0], batch):
            aa, bb = a[start : start + batch], b[start : start + batch]
            predicted = (model(aa, bb) > 0).long()
            right = predicted == add_bits(aa, bb)
            exact += int(right.all(dim=1).sum())
            bits_right += int(right.sum())
    count = a.shape[0]
    return {
        "exact": exact / count,
        "bit": bits_right / (count * (a.shape[1] + 1)),
        "count": count,
    }


def train(model: Any, a: Any, b: Any, cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """Adam on binary cross-entropy per sum bit; minibatches drawn with a seeded generator."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    loss_fn = torch.nn.BCEWithLogitsLoss()
    target = add_bits(a, b).float()
    curve = []
    for step_index in range(1, cfg["steps"] + 1):
        rows = torch.randint(0, a.shape[0], (cfg["batch_size"],), generator=generator)
        loss = loss_fn(model(a[rows], b[rows]), target[rows])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step_index % cfg["log_every"] == 0 or step_index == cfg["steps"]:
            curve.append({"step": step_index, "loss": loss.item()})
    # No wall time here: the JSON stays byte-identical across reruns (benchmark/ has it).
    return {"curve": curve}


def _config(params: dict[str, Any]) -> dict[str, Any]:
    where = "theory.addition"
    cfg = {
        key: require(params, key, where)
        for key in (
            "seed", "train_bits", "train_pairs", "steps", "batch_size", "lr",
            "rnn_hidden", "mlp_hidden", "eval_bits", "eval_samples", "log_every",
            "sweep_train_pairs",
        )
    }  # fmt: skip
    require_finite(cfg, where)
    for key in ("train_bits", "train_pairs", "steps", "batch_size", "rnn_hidden", "mlp_hidden"):
        if not isinstance(cfg[key], int) or cfg[key] < 1:
            raise RnnlabError(f"config `{where}.{key}` must be a positive integer.")
    total = 4 ** cfg["train_bits"]
    for count in [cfg["train_pairs"], *cfg["sweep_train_pairs"]]:
        if not isinstance(count, int) or not 1 <= count < total:
            raise RnnlabError(
                f"config `{where}`: {count!r} training pairs is not between 1 and "
                f"{total - 1} (the {total} pairs of {cfg['train_bits']}-bit numbers, "
                "one at least held out); change train_pairs / sweep_train_pairs."
            )
    if not cfg["eval_bits"] or any(n < 1 for n in cfg["eval_bits"]):
        raise RnnlabError(f"config `{where}.eval_bits` must list positive bit widths.")
    return cfg


def split_pairs(cfg: dict[str, Any], train_pairs: int) -> tuple[Any, Any, Any, Any]:
    """A seeded split of every n-bit pair into `train_pairs` for training, the rest held out."""
    import torch

    a_all, b_all = all_pairs(cfg["train_bits"])
    order = torch.randperm(a_all.shape[0], generator=torch.Generator().manual_seed(cfg["seed"]))
    train_rows, test_rows = order[:train_pairs], order[train_pairs:]
    return a_all[train_rows], b_all[train_rows], a_all[test_rows], b_all[test_rows]


def fit_both(
    cfg: dict[str, Any], a_train: Any, b_train: Any, a_test: Any, b_test: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the RNN and the MLP from the same seed on the same pairs; score both."""
    import torch

    torch.manual_seed(cfg["seed"])
    models = build_models(cfg["train_bits"], cfg["rnn_hidden"], cfg["mlp_hidden"])
    results: dict[str, Any] = {}
    for offset, (name, model) in enumerate(models.items()):
        log = train(model, a_train, b_train, cfg, seed=cfg["seed"] + 1 + offset)
        model.eval()
        results[name] = {
            "params": sum(p.numel() for p in model.parameters()),
            "curve": log["curve"],
            "train": score(model, a_train, b_train),
            "test": score(model, a_test, b_test),
        }
    return models, results


def run(params: dict[str, Any]) -> dict[str, Any]:
    import torch

    cfg = _config(params)
    seed_everything(cfg["seed"])
    n = cfg["train_bits"]
    a_train, b_train, a_test, b_test = split_pairs(cfg, cfg["train_pairs"])
    models, results = fit_both(cfg, a_train, b_train, a_test, b_test)
    # Longer numbers: only the RNN can read them. Fresh random pairs per width.
    longer = torch.Generator().manual_seed(cfg["seed"] + 100)
    by_length = []
    for width in cfg["eval_bits"]:
        if width == n:
            entry = {"bits": width, "rnn": results["rnn"]["test"], "mlp": results["mlp"]["test"]}
        else:
            a, b = random_pairs(width, cfg["eval_samples"], longer)
            entry = {"bits": width, "rnn": score(models["rnn"], a, b), "mlp": None}
        entry["chance_exact"] = 0.5 ** (width + 1)  # guessing every sum bit at random
        by_length.append(entry)
    # How many examples each needs: held-out accuracy as the training set shrinks or grows.
    sweep = []
    for count in cfg["sweep_train_pairs"]:
        # The main setting is one point of the sweep: reuse it rather than retrain.
        fitted = (
            results if count == cfg["train_pairs"] else fit_both(cfg, *split_pairs(cfg, count))[1]
        )
        sweep.append(
            {
                "train_pairs": count,
                "train_share": count / 4**n,
                **{name: fitted[name]["test"] for name in fitted},
            }
        )
    return {
        "config": cfg,
        "sweep": sweep,
        "pairs_total": 4**n,
        "pairs_train": int(a_train.shape[0]),
        "pairs_test": int(a_test.shape[0]),
        "train_share": a_train.shape[0] / 4**n,
        "models": results,
        "by_length": by_length,
        "mlp_input_size": 2 * n,
        "rnn_input_size": 2,
        "params_ratio_mlp_to_rnn": results["mlp"]["params"] / results["rnn"]["params"],
        "threads": torch.get_num_threads(),
    }


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv, "Q2-h: binary addition, MLP vs bit-serial RNN")
    set_threads(args.threads)
    write_json(args.out, run(args.params))
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
