"""Theory questions answered by computation: Q1 (layer sizes and costs), Q2-c (a forward
pass with the given numbers), Q2-h (binary addition: MLP vs RNN) and Q2-i (why a
classic RNN leaves a GPU idle). Each module is a `python -m` entry point run by
workflow/rules/theory.smk and writes JSON under results/theory/."""
