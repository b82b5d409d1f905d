"""Model files: GGUF metadata, the bundled model, and what is installed."""
