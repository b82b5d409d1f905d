"""Inference: a worker process runs llama.cpp; the UI process only talks to it."""
