"""Procedural twins of ACDC, SLiver07 and IDRiD: same channels, label maps and split structure.

Each slice is rendered from its own seed (the dataset seed, the subject and the slice), so any index
is reproducible without rendering the others.
"""
