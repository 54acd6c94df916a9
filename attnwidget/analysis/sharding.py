"""Work of an analysis spread over torch.distributed ranks: which ranks there are, and whether they agree.

`process_group` finds torch.distributed's default process group (torchrun, accelerate launch) and the
device its collectives run on; `agree` gathers a small signature from every rank, stops every rank when
one failed or when they were given different work, and returns the signatures; `map_sharded` runs one
function over a list of items, rank r of N taking items r, r + N, ..., and gives every rank every
result. `census` and the template comparisons both go through here; the transport is torch.distributed
(gloo on the CPU, NCCL on GPUs), never one of our own. torch is imported inside the functions.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from attnwidget.errors import AttentionError

__all__ = ["Group", "process_group", "agree", "digest", "map_sharded"]


@dataclass
class Group:
    """The default process group as an analysis uses it: this rank, how many, where to reduce."""

    rank: int
    world: int
    device: Any  # torch.device

    def collective(self):
        """A context in which object collectives run on this rank's GPU when reducing on CUDA."""
        import torch

        if self.device.type == "cuda":
            return torch.cuda.device(self.device)
        return contextlib.nullcontext()

    def owns(self, index: int) -> bool:
        """Whether item `index` of a sharded list is this rank's: rank r of N takes r, r + N, ..."""
        return index % self.world == self.rank


def process_group(model: Any, what: str, backends: Sequence[str] | None = None) -> Group | None:
    """torch.distributed's default process group when one of more than one process is initialised
    (torchrun, accelerate launch), with the device its collectives run on; else None.

    `what` names the analysis in errors. `backends`, when given, are the backend names accepted
    (``("gloo", "nccl")``); any other raises. A backend that cannot run collectives on the CPU nor on
    the model's device (NCCL with a model on the CPU) raises too, with the fix.
    """
    try:
        import torch
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - every caller runs a torch model
        return None
    if not dist.is_available() or not dist.is_initialized():
        return None
    world = dist.get_world_size()
    if world < 2:
        return None
    config = str(dist.get_backend_config())
    pairs = [part.split(":", 1) for part in config.split(",") if ":" in part]
    names = {name.strip().lower() for _, name in pairs} or {config.strip().lower()}
    if backends is not None and not names <= set(backends):
        raise AttentionError(
            f"{what}: the default process group's backend is {config}; the ranks exchange their results "
            f"only through {' or '.join(backends)}. Initialise the process group with "
            "torch.distributed.init_process_group('gloo') on the CPU, init_process_group('nccl') with each "
            "rank's model on its own GPU, or init_process_group('cpu:gloo,cuda:nccl') for both"
        )
    devices = {device.strip() for device, _ in pairs}
    if not devices:  # a bare backend name: its devices as torch lists them
        devices = set(getattr(dist.Backend, "backend_capability", {}).get(config.lower(), []))
    if "cpu" in devices:
        return Group(dist.get_rank(), world, torch.device("cpu"))
    from attnwidget.extraction.facts import input_device

    device = input_device(model)
    if device.type not in devices:
        raise AttentionError(
            f"{what}: the default process group's backend ({config}) cannot reduce tensors on "
            f"{device.type} (the model is on {device}), so the ranks cannot combine their results. Initialise "
            "the process group with a backend for it: torch.distributed.init_process_group('gloo') for a "
            "model on the CPU, or init_process_group('cpu:gloo,cuda:nccl') for both; or put each rank's "
            "model on its own GPU (torch.cuda.set_device(local_rank); model.to(local_rank))"
        )
    return Group(dist.get_rank(), world, device)


def agree(
    group: Group,
    mine: dict,
    failure: BaseException | None,
    checks: Sequence[tuple[str, str]],
    what: str,
    fix: str,
) -> list[dict]:
    """Every rank's signature (`mine` with an ``"error"`` entry added), gathered with one
    ``all_gather_object``, once the ranks are known to agree.

    Raises this rank's own `failure` if it has one; else an `AttentionError` naming the rank that
    failed; else one naming the first entry of `checks` (key, how to say it) on which the ranks
    disagree (a None value is a rank with nothing to say, left out), followed by `fix`.
    """
    import torch.distributed as dist

    mine = {**mine, "error": None if failure is None else f"{type(failure).__name__}: {failure}"}
    signatures: list[Any] = [None] * group.world
    with group.collective():
        dist.all_gather_object(signatures, mine)
    if failure is not None:
        raise failure
    failed = [(r, s["error"]) for r, s in enumerate(signatures) if s["error"] is not None]
    if failed:
        r, message = failed[0]
        raise AttentionError(f"{what}: rank {r} of {group.world} failed, so rank {group.rank} stops too: {message}")
    for key, said in checks:
        values = [s[key] for s in signatures if s[key] is not None]
        if any(v != values[0] for v in values):
            listing = ", ".join(f"rank {r}: {s[key]}" for r, s in enumerate(signatures))
            raise AttentionError(f"{what} over {group.world} processes: the ranks disagree on {said}: {listing}. {fix}")
    return signatures


def digest(items: Sequence[Any]) -> str:
    """A short hash of the items' reprs, in order: equal on two ranks given equal items."""
    h = hashlib.sha256()
    for item in items:
        data = repr(item).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()[:16]


def map_sharded(
    group: Group | None,
    work: Callable[[int, Any], Any],
    items: Sequence[Any],
    *,
    failure: BaseException | None = None,
    settings: dict | None = None,
    checks: Sequence[tuple[str, str]] = (),
    what: str,
    fix: str,
    noun: str = "items",
) -> list:
    """``[work(i, item) for i, item in enumerate(items)]``, sharded over the ranks of `group`.

    Without a group (one process) it is that list. With one, rank r of N runs items r, r + N, ...,
    then the ranks check with `agree` that they were given the same number of items, the same items
    (`digest`) and the same `settings` (each key of `checks`), and every rank returns every result,
    in item order (`noun` names the items in errors). Results travel with ``all_gather_object``, so keep them small (numbers, short
    arrays). `failure`: an error this rank met before its work (it raises on this rank, and the
    others name it), so that no rank waits for one that has already stopped.
    """
    if group is None:
        if failure is not None:
            raise failure
        return [work(i, item) for i, item in enumerate(items)]
    done: dict[int, Any] = {}
    if failure is None:
        try:
            for i, item in enumerate(items):
                if group.owns(i):
                    done[i] = work(i, item)
        except Exception as e:  # the other ranks must hear of it, or they would wait for this one forever
            failure = e
    mine = {"items": len(items), "digest": digest(items), **(settings or {}), "results": done}
    checks = [*checks, ("items", f"the number of {noun}"), ("digest", f"the {noun}: their content or order")]
    merged: dict[int, Any] = {}
    for signature in agree(group, mine, failure, checks, what, fix):
        merged.update(signature["results"])
    return [merged[i] for i in range(len(items))]
