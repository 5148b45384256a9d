"""Mathematical models of mecopt (see README.md in this folder)."""
