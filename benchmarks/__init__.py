"""Benchmarks of wecom_feishu_async against the emulator, side by side with its peers.

Run them all with ``python -m benchmarks [--quick] [--only NAME,...]`` (see ``run.py``), or
one with ``python benchmarks/NAME.py [--quick]``. Peers come from the ``bench`` extra.
"""
