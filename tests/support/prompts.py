"""Prompts that several test tiers send to the real model."""

# Makes even the bundled 135M model write long enough to be stopped mid-reply.
LONG_REPLY_PROMPT = "Write a very long story about a dragon, at least 2000 words."
