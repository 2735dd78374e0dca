"""Packages for setuptools: the top-level `schemas/` and `conf/` ship in the wheel as `beacon.schemas`, `beacon.conf`.

The wheel then runs anywhere: the official schemas, the project's own and the default configuration are in it.
pyproject.toml cannot map a folder outside a package into it (`packages.find` only lists folders where
they are), so this one mapping lives here; everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["beacon*", "ingest*"]), "beacon.schemas", "beacon.conf"],
    package_dir={"beacon.schemas": "schemas", "beacon.conf": "conf"},
)
