"""Q6-A: IMDb sentiment with a Simple RNN and an LSTM (models, batching, training, summary)."""
