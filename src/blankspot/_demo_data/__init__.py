"""The demo data embedded in blankspot: the Paser boundaries and tables, and the 3 arc-second
SYNTHETIC demo DEM.

In a wheel this package's folder is the repository's ``data/`` folder (pyproject.toml maps
``blankspot._demo_data`` to ``data`` and lists the files as package data), so the files sit at
``boundaries/`` and ``terrain/`` next to this module. In a source checkout run without
installing (``PYTHONPATH=src``) this stub folder holds no data and
:func:`blankspot.io.datasets.embedded_data_dir` uses the checkout's ``data/`` instead.
"""
