"""GPU runtimes: the registry of variants, the resolver that picks one, the VRAM planner, and
what is active now."""
