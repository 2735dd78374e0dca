"""Genome reference knowledge: assemblies and chromosome names."""
