"""Built-in dataset plugins: ACDC, SLiver07, IDRiD readers and their procedural phantom twins.

Nothing heavy is imported here; the loaders are imported by their spec factories on first use.
"""
