"""Thin HTTP routes; the work lives in the services on `app.state`."""
