"""``make bench``: the performance figures of the functions, each next to its goal.

``python -m bench`` runs every figure; ``python -m bench calls latency`` runs a selection. Each run
prints a table (figure, value, goal, the command that reproduces it) and writes
``bench/results.json``. Method and discussion: docs/performance.md.
"""
