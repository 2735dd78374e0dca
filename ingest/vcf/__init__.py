"""VCF ingest: read with cyvcf2, normalise like bcftools norm, count genotypes, build genomicVariation records."""
