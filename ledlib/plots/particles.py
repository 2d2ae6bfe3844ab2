"""Figures of the particles chapter."""

__all__: list[str] = []
