"""Figures of the fhn chapter."""

__all__: list[str] = []
