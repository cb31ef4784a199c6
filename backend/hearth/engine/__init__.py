"""Inference backends behind one interface: llama.cpp in-process, or a remote OpenAI server."""
