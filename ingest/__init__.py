"""Data-steward ingest: BFF, VCF and phenopackets loaders."""
