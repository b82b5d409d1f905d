"""Tools the model may call. File tools reach the disk only through ``sandbox.fs.Sandbox``."""
