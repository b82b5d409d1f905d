"""Conversations with the model: prompt building, token budget, the reply queue."""
