"""The Q6 sentiment classifiers: an embedding, one recurrent layer, a linear head.

Contract (other stages, e.g. the Q6-B/C probes, code against it):

``SentimentRNN(vocab_size, embed_dim, hidden_size, cell, pad_id=0, dropout=0.0)``
    ``cell`` is ``"rnn"`` (Elman RNN, tanh) or ``"lstm"``; ``dropout`` acts on the
    embeddings and on the read-out state in training mode only. Attributes:
    ``embedding`` (``nn.Embedding``, ``padding_idx=pad_id``), ``rnn``
    (``nn.RNN``/``nn.LSTM``, one layer, ``batch_first=True``) and ``head``
    (``nn.Linear(hidden_size, 1)``).

``model(ids, lengths) -> logits``
    ``ids`` LongTensor ``[B, T]`` (left-aligned, padded with ``pad_id``),
    ``lengths`` LongTensor ``[B]`` with the real token count of each row
    (``1 <= lengths <= T``). Returns one logit per review ``[B]`` (positive
    class = 1), read from the hidden state at the LAST REAL token
    (index ``lengths - 1``), never at a padded position. Because the recurrence
    is causal, the states at real positions do not depend on the padding after
    them, so padded batches give the same logits as unpadded sequences.

``model.run(ids, lengths) -> (outputs, logits)``
    The same forward pass that also returns every step's hidden state
    ``outputs [B, T, H]`` (for probes that hook time steps).

Checkpoints are dicts written with ``rnnlab.runtime.save_torch``:
``{"model_config": <constructor kwargs>, "model_state": state_dict, ...}``;
``load_checkpoint(path)`` rebuilds the model from them (CPU, eval mode).
Best checkpoint of each Q6-A run:
``results/sentiment/runs/{model}_L{length}_s{seed}/best.pt`` with
``metrics.json`` and ``curve.csv`` next to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from rnnlab.errors import RnnlabError

CELLS = ("rnn", "lstm")


class SentimentRNN(nn.Module):
    """Embedding -> one-layer RNN or LSTM -> linear head on the last real token's state."""

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        hidden_size: int,
        cell: str,
        pad_id: int = 0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise RnnlabError(f"unknown recurrent cell {cell!r}; use one of {', '.join(CELLS)}.")
        for name, value in (
            ("vocab_size", vocab_size),
            ("embed_dim", embed_dim),
            ("hidden_size", hidden_size),
        ):
            if int(value) < 1:
                raise RnnlabError(f"model {name} must be a positive integer, got {value!r}.")
        if not 0 <= pad_id < vocab_size:
            raise RnnlabError(f"pad_id {pad_id} is outside the vocabulary of size {vocab_size}.")
        if not 0.0 <= float(dropout) < 1.0:
            raise RnnlabError(f"dropout must lie in [0, 1), got {dropout!r}.")
        self.cell = cell
        self.pad_id = int(pad_id)
        self.hidden_size = int(hidden_size)
        # padding_idx keeps the pad row at zero with zero gradient: padding carries no signal.
        self.embedding = nn.Embedding(int(vocab_size), int(embed_dim), padding_idx=self.pad_id)
        rnn_cls = nn.LSTM if cell == "lstm" else nn.RNN
        kwargs: dict[str, Any] = {"batch_first": True, "num_layers": 1}
        if cell == "rnn":
            kwargs["nonlinearity"] = "tanh"
        self.rnn = rnn_cls(int(embed_dim), int(hidden_size), **kwargs)
        self.head = nn.Linear(int(hidden_size), 1)
        self.dropout = nn.Dropout(float(dropout))

    def run(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every step's hidden state ``[B, T, H]`` and the logits ``[B]``."""
        if ids.dim() != 2:
            raise RnnlabError(f"ids must be a [batch, time] matrix, got shape {tuple(ids.shape)}.")
        lengths = lengths.to(device=ids.device, dtype=torch.long)
        if lengths.shape != ids.shape[:1]:
            raise RnnlabError(
                f"lengths must hold one count per row ({ids.shape[0]}), "
                f"got shape {tuple(lengths.shape)}."
            )
        if lengths.numel() and (int(lengths.min()) < 1 or int(lengths.max()) > ids.shape[1]):
            raise RnnlabError(
                f"lengths must lie in 1..{ids.shape[1]} (the padded width); "
                f"got {int(lengths.min())}..{int(lengths.max())}. Clip reviews to the width first."
            )
        outputs, _ = self.rnn(self.dropout(self.embedding(ids)))
        last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])
        final = self.dropout(outputs.gather(1, last).squeeze(1))
        return outputs, self.head(final).squeeze(-1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.run(ids, lengths)[1]

    @property
    def config(self) -> dict[str, Any]:
        """Constructor kwargs: stored in checkpoints so `load_checkpoint` can rebuild the model."""
        return {
            "vocab_size": self.embedding.num_embeddings,
            "embed_dim": self.embedding.embedding_dim,
            "hidden_size": self.hidden_size,
            "cell": self.cell,
            "pad_id": self.pad_id,
            "dropout": self.dropout.p,
        }


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def load_checkpoint(path: str | Path) -> SentimentRNN:
    """Rebuild a `SentimentRNN` from a checkpoint dict and load its weights (CPU, eval mode)."""
    path = Path(path)
    if not path.exists():
        raise RnnlabError(f"checkpoint {path} does not exist; run the training rule that makes it.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file: say which file and what to do
        raise RnnlabError(f"cannot read checkpoint {path} ({err}); delete it and retrain.") from err
    if not isinstance(state, dict) or "model_config" not in state or "model_state" not in state:
        raise RnnlabError(
            f"{path} is not a SentimentRNN checkpoint (needs 'model_config' and 'model_state'); "
            "retrain it with `python -m rnnlab.sentiment.train`."
        )
    model = SentimentRNN(**state["model_config"])
    model.load_state_dict(state["model_state"])
    model.eval()
    return model
