"""Inference backends behind one interface (llama.cpp in-process, or a remote OpenAI server),
the VRAM planner that fits a model to the GPU, and the line every generation waits in."""
