"""Figures of the ks chapter."""

__all__: list[str] = []
