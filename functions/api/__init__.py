"""The HTTP API function (never imports torch)."""
