"""Q6-B and Q6-C probes of the trained sentiment models.

- `unroll`: replays a `SentimentRNN` step by step with `nn.RNNCell`/`nn.LSTMCell`
  holding the very same weights, so every hidden state h_t (and LSTM cell state
  c_t) is its own tensor that a hook can see.
- `gradients` (Q6-B): the exact gradient of the loss with respect to h_t, c_t and
  the embedding output x_t at every step of a length-200 validation batch.
- `hidden` (Q6-C): the L2 norm of h_t (and c_t) along ten test reviews read at
  their natural length.
- `selection`: the seeded, class-balanced choice of reviews both probes use.
"""
