"""rnnlab: a reproducible answer to a deep-learning homework on recurrent networks."""

__version__ = "0.1.0"
