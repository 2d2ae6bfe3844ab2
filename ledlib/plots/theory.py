"""Figures of the theory chapter."""

__all__: list[str] = []
