"""Evaluation: FID/KID (torch-fidelity's Inception), the paper's U-Net Dice protocol, U-Net feature
FD, precision/recall/density/coverage and memorisation, all as metric plugins; the harness that runs
them on a model or samples; and the Table 2 study runner. Heavy modules are imported when used."""
