"""SentimentRNN: last-real-token readout, checkpoints, input checks; length bucketing."""

from __future__ import annotations

import pytest
import torch

from rnnlab.errors import RnnlabError
from rnnlab.runtime import save_torch
from rnnlab.sentiment.batching import bucketed_order, make_batch, sorted_order
from rnnlab.sentiment.models import SentimentRNN, load_checkpoint
from rnnlab.training import epoch_generator

VOCAB = 30


def tiny(cell: str, seed: int = 0) -> SentimentRNN:
    torch.manual_seed(seed)
    return SentimentRNN(vocab_size=VOCAB, embed_dim=6, hidden_size=5, cell=cell).eval()


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_readout_uses_last_real_token_not_padding(cell):
    model = tiny(cell)
    gen = torch.Generator().manual_seed(1)
    lengths = torch.tensor([3, 7, 1, 5])
    width = 9
    rows = [torch.randint(2, VOCAB, (int(n),), generator=gen) for n in lengths]
    padded = torch.zeros(len(rows), width, dtype=torch.long)
    for i, row in enumerate(rows):
        padded[i, : len(row)] = row
    batch_logits = model(padded, lengths)
    # Each review alone, unpadded, gives the same logit as inside the padded batch.
    for i, row in enumerate(rows):
        alone = model(row.unsqueeze(0), torch.tensor([len(row)]))
        torch.testing.assert_close(batch_logits[i : i + 1], alone, rtol=0, atol=1e-6)
    # Whatever sits after the last real token is never read.
    garbage = padded.clone()
    for i, n in enumerate(lengths.tolist()):
        garbage[i, n:] = torch.randint(2, VOCAB, (width - n,), generator=gen)
    torch.testing.assert_close(model(garbage, lengths), batch_logits, rtol=0, atol=0)
    # ...while reading the last padded position (the classic bug) gives other logits.
    full = torch.full_like(lengths, width)
    assert not torch.allclose(model(padded, full), batch_logits)


def test_run_returns_every_step_and_matches_forward():
    model = tiny("lstm")
    ids = torch.randint(2, VOCAB, (2, 6))
    lengths = torch.tensor([6, 4])
    outputs, logits = model.run(ids, lengths)
    assert outputs.shape == (2, 6, 5)
    torch.testing.assert_close(logits, model(ids, lengths))
    torch.testing.assert_close(logits[1], model.head(outputs[1, 3]).squeeze(-1))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_module_layout_is_the_contract(cell):
    model = tiny(cell)
    assert isinstance(model.rnn, torch.nn.LSTM if cell == "lstm" else torch.nn.RNN)
    assert model.rnn.batch_first and model.rnn.num_layers == 1
    if cell == "rnn":
        assert model.rnn.nonlinearity == "tanh"
    assert model.embedding.padding_idx == 0
    assert model.head.out_features == 1


def test_checkpoint_round_trip(tmp_path):
    model = tiny("lstm", seed=3)
    path = tmp_path / "best.pt"
    save_torch(path, {"model_config": model.config, "model_state": model.state_dict()})
    loaded = load_checkpoint(path)
    assert not loaded.training
    ids = torch.randint(2, VOCAB, (3, 8))
    lengths = torch.tensor([8, 2, 5])
    torch.testing.assert_close(loaded(ids, lengths), model(ids, lengths), rtol=0, atol=0)


def test_bad_checkpoints_are_named(tmp_path):
    with pytest.raises(RnnlabError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    save_torch(tmp_path / "other.pt", {"weights": 1})
    with pytest.raises(RnnlabError, match="not a SentimentRNN checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    (tmp_path / "broken.pt").write_bytes(b"not a torch file")
    with pytest.raises(RnnlabError, match="cannot read checkpoint"):
        load_checkpoint(tmp_path / "broken.pt")


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(RnnlabError, match="unknown recurrent cell"):
        SentimentRNN(VOCAB, 4, 4, cell="gru")
    with pytest.raises(RnnlabError, match="pad_id"):
        SentimentRNN(VOCAB, 4, 4, cell="rnn", pad_id=VOCAB)
    model = tiny("rnn")
    ids = torch.randint(2, VOCAB, (2, 5))
    with pytest.raises(RnnlabError, match="lengths must lie in 1..5"):
        model(ids, torch.tensor([0, 3]))
    with pytest.raises(RnnlabError, match="lengths must lie in 1..5"):
        model(ids, torch.tensor([6, 3]))
    with pytest.raises(RnnlabError, match="one count per row"):
        model(ids, torch.tensor([3]))


def test_bucketed_order_covers_every_review_once_and_groups_lengths():
    lengths = torch.randint(1, 400, (1000,), generator=torch.Generator().manual_seed(0))
    order = bucketed_order(lengths, batch_size=32, pool_batches=10, gen=epoch_generator(0, 1))
    flat = torch.cat(order)
    assert sorted(flat.tolist()) == list(range(1000))
    # Inside a pool the lengths are sorted, so a batch spans a narrow length range.
    spread = sum(int(lengths[b].max() - lengths[b].min()) for b in order) / len(order)
    plain = bucketed_order(lengths, batch_size=32, pool_batches=1, gen=epoch_generator(0, 1))
    plain_spread = sum(int(lengths[b].max() - lengths[b].min()) for b in plain) / len(plain)
    assert spread < plain_spread / 4


def test_epoch_order_depends_only_on_seed_and_epoch():
    lengths = torch.arange(1, 101)
    first = bucketed_order(lengths, 8, 3, epoch_generator(5, 2))
    again = bucketed_order(lengths, 8, 3, epoch_generator(5, 2))
    other = bucketed_order(lengths, 8, 3, epoch_generator(5, 3))
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_batches_are_trimmed_to_their_longest_review():
    ids = torch.arange(40).view(4, 10)
    lengths = torch.tensor([2, 6, 3, 10])
    labels = torch.tensor([0, 1, 1, 0])
    batch = make_batch(ids, lengths, labels, torch.tensor([0, 2]), trim=True)
    assert batch.ids.shape == (2, 3) and batch.real_tokens == 5
    assert batch.labels.dtype == torch.float32
    untrimmed = make_batch(ids, lengths, labels, torch.tensor([0, 2]), trim=False)
    assert untrimmed.ids.shape == (2, 10)
    order = sorted_order(lengths, 3)
    assert [b.tolist() for b in order] == [[0, 2, 1], [3]]
