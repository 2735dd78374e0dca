"""Data-steward ingest: BFF, VCF and phenopackets loaders."""

from beacon import __version__ as __version__  # one version for the distribution (pyproject reads it)
