"""GPU runtimes: the registry of variants, the resolver that picks one, staging, probing and
switching an upgrade, and what is active now."""
