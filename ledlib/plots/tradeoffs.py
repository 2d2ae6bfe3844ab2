"""Figures of the tradeoffs chapter."""

__all__: list[str] = []
