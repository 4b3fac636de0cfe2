"""The emulator's Feishu routes."""
