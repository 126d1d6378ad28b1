"""Mini-batches for padded sequence training: length bucketing and per-batch trimming.

On a CPU the cost of a recurrent step is proportional to the padded width of the
batch, so two cheap measures make most of the speed:

* bucketing: shuffle, cut the order into pools of `pool_batches` batches, sort each
  pool by length and split it into batches; reviews of similar length then share a
  batch and little padding is computed. Batch order is shuffled again so an epoch
  does not run from short to long.
* trimming: each batch is cut to its longest real length.

Every order comes from the generator the training engine seeds by (seed, epoch)
(`rnnlab.training.epoch_generator`), so an epoch's batches are the same whether
training started fresh or resumed from a checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from rnnlab.errors import RnnlabError


@dataclass(frozen=True)
class Batch:
    ids: torch.Tensor  # [B, T] long, T = longest real length in the batch (after trimming)
    lengths: torch.Tensor  # [B] long, 1..T
    labels: torch.Tensor  # [B] float 0/1

    @property
    def real_tokens(self) -> int:
        return int(self.lengths.sum())

    @property
    def padded_tokens(self) -> int:
        return int(self.ids.numel())

    def to(self, device: torch.device) -> Batch:
        return Batch(self.ids.to(device), self.lengths.to(device), self.labels.to(device))


def bucketed_order(
    lengths: torch.Tensor, batch_size: int, pool_batches: int, gen: torch.Generator
) -> list[torch.Tensor]:
    """Index batches for one epoch: random pools, sorted by length inside each pool.

    `pool_batches <= 1` disables bucketing (plain random batches).
    """
    if batch_size < 1:
        raise RnnlabError(f"batch_size must be at least 1, got {batch_size}.")
    order = torch.randperm(len(lengths), generator=gen)
    if pool_batches > 1:
        pool = batch_size * pool_batches
        parts = []
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            # stable sort keeps the random order among equal lengths
            chunk = chunk[torch.sort(lengths[chunk], stable=True).indices]
            parts.append(chunk)
        order = torch.cat(parts) if parts else order
    batches = list(torch.split(order, batch_size))
    if pool_batches > 1:
        perm = torch.randperm(len(batches), generator=gen)
        batches = [batches[i] for i in perm.tolist()]
    return batches


def sorted_order(lengths: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """Evaluation batches: the whole split sorted by length (order does not change results)."""
    order = torch.sort(lengths, stable=True).indices
    return list(torch.split(order, batch_size))


def make_batch(
    ids: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor, index: torch.Tensor, trim: bool
) -> Batch:
    """Gather rows `index`; with `trim`, cut the padded width to the longest real length."""
    batch_lengths = lengths[index]
    width = int(batch_lengths.max()) if trim else ids.shape[1]
    return Batch(
        ids=ids[index, :width],
        lengths=batch_lengths,
        labels=labels[index].float(),
    )


def iterate(
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    order: list[torch.Tensor],
    trim: bool = True,
) -> Iterator[Batch]:
    for index in order:
        yield make_batch(ids, lengths, labels, index, trim)
