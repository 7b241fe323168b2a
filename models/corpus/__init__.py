"""Corpus builder for the UltraMem code model (see README.md in this folder)."""
