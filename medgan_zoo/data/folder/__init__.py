"""The built-in ``folder`` data set (a researcher's own files): config, discovery, readers, labels,
and the loader in :mod:`.load`. Importing this package is light (no torch): the registry reads the
config from here at discovery."""
