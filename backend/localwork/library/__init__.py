"""The Models pane and each model's settings: what is installed, what can be downloaded,
whether it fits this computer, which one is selected, and its profile."""
