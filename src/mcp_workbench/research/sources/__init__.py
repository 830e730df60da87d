"""The sources a research run asks: one small module per provider behind :class:`~.base.Source`."""
