"""Exact solver backends of mecopt."""
