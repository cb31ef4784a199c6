"""API keys for programs that use Hearth as their local model server: roles, limits, audit."""
