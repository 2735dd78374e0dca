"""GA4GH Phenopackets v2 into the Beacon v2 default model."""
