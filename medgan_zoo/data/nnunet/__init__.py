"""The built-in ``nnunet`` data set: nnU-Net v2 raw data sets and Medical Segmentation Decathlon
folders read as they are (:mod:`.layout`, :mod:`.load`), and synthetic pairs written back as an
nnU-Net raw data set (:mod:`.write`). Importing this package is light (no torch)."""
