"""Packages for setuptools: the top-level `schemas/` folder ships inside the wheel as `beacon.schemas`.

pyproject.toml cannot map a folder outside a package into it (`packages.find` only lists folders where
they are), so this one mapping lives here; everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["beacon*", "ingest*"]), "beacon.schemas"],
    package_dir={"beacon.schemas": "schemas"},
)
