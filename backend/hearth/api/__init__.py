"""Thin HTTP routes; the work lives in the services, which each route names through
hearth.api.deps."""
