"""The package version (a module of its own, so that modules inside mecopt can read it
without importing the package they belong to)."""

__version__ = "0.1.0"
