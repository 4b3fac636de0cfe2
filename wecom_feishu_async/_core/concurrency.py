"""Bounded concurrent fan-out that leaves no task behind."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def map_concurrent(
    fn: Callable[[T], Awaitable[R]], items: Sequence[T], *, limit: int
) -> list[R]:
    """``[await fn(x) for x in items]`` with at most ``limit`` running at once.

    Results keep the order of ``items``. On the first failure (or cancellation) every
    other call is cancelled and awaited before the error propagates.
    """
    results: list[R | None] = [None] * len(items)
    pending = iter(enumerate(items))

    async def worker() -> None:
        for index, item in pending:
            results[index] = await fn(item)

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(limit, len(items)))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return results  # type: ignore[return-value]  # every slot was filled
