"""The model library: GGUF headers, the models folder, the catalogue and its downloads."""
