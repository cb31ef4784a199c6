"""Networking at the edge: resumable, verified HTTP downloads."""
