"""The emulator's world: the generated organisation, its state and faults."""
