"""Hearth: private, offline chat with a local model."""

__version__ = "0.1.0"
