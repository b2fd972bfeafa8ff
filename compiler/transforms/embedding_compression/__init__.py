"""Clustered low-rank compression of embedding tables (MCUBERT), post-training.

lowrank.py finds clusters and per-cluster bases in floating point under a byte budget;
factors.py turns them into the integer arrays of `qtfm.clustered_embedding`; table.py ties
the two together (budget accounting, the int8-or-int4 choice, the error it reached).
"""
