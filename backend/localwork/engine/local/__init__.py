"""The local engine: llama-cpp-python in a crash-isolated worker process,
spoken to in prompt text rendered with the model's own template."""
