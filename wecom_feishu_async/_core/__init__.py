"""The vendor-neutral core: the request loop and everything it uses."""
