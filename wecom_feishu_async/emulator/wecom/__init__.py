"""The emulator's WeCom routes."""
