"""Conversations in motion: prompt building, context truncation, chat runs."""
