"""Reading reference checkpoints and loading them strictly into a ``GraphForecastModel``.

Accepted layouts: the training scripts' dict (``{"model_state": {"module.<key>": tensor}, ...}``),
the same with keys lacking ``module.``, or a bare state dict. ``device_buffer`` (a physicsnemo
device marker) is ignored. Any missing, unexpected or mis-shaped key is an error that lists them.
"""

import hashlib
import inspect
import os
import pickle
import types
from typing import Dict, List, Mapping

import torch
from torch import Tensor, nn

PREFIX = "module."
IGNORED_KEYS = frozenset({"device_buffer"})
_MAX_LISTED = 20


class CheckpointError(Exception):
    """A checkpoint that cannot be read or does not fit the model."""


class _AllowListUnpickler(pickle.Unpickler):
    """The standard unpickler with its globals restricted to those of torch's weights-only
    unpickler (tensor rebuilders, storage types, dtypes, OrderedDict): every opcode, no class or
    function outside the list, so reading a checkpoint still cannot run code."""

    def find_class(self, module, name):
        from torch import _weights_only_unpickler
        allowed = _weights_only_unpickler._get_allowed_globals()
        key = f"{module}.{name}"
        if key not in allowed:
            raise pickle.UnpicklingError(f"global {key} is not allowed in a checkpoint")
        return allowed[key]


# A pickle module of the allow-listed unpickler, for torch's archive loader.
_ALLOW_LIST_PICKLE = types.SimpleNamespace(
    __name__="neuralom_allow_list_pickle", Unpickler=_AllowListUnpickler,
    load=lambda file, **kwargs: _AllowListUnpickler(file, **kwargs).load())


def _load_allow_listed(path: str):
    """The checkpoint's zip archive read with the allow-listed unpickler. Through torch's archive
    loader directly: torch 1.13's torch.load replaces any pickle_module by pickle itself unless
    weights_only is set, which would run whatever the file names."""
    from torch import serialization
    with open(path, "rb") as file:
        if not serialization._is_zipfile(file):
            raise pickle.UnpicklingError("not a zip archive of torch.save (the legacy format is not read)")
        with serialization._open_zipfile_reader(file) as archive:
            return serialization._load(archive, "cpu", _ALLOW_LIST_PICKLE, encoding="utf-8")


def _torch_load(path: str):
    # A checkpoint is a pickle: with weights_only (torch >= 1.13) torch.load unpickles only
    # tensors, containers and numbers, never arbitrary objects, so reading one cannot run code.
    if "weights_only" not in inspect.signature(torch.load).parameters:
        return _load_allow_listed(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch 1.13 wraps its unpickler's errors in an UnpicklingError
        # torch 1.13's weights-only unpickler lacks opcodes that real checkpoints use: BINFLOAT
        # (71) for the floats of the training script's optimizer_state_dict (lr, betas, eps).
        # The same allow list of globals over the standard unpickler reads those.
        if "Unsupported operand" not in str(exc):
            raise
        return _load_allow_listed(path)


def read_state_dict(path: str) -> Dict[str, Tensor]:
    """The model weights of checkpoint ``path``, keys without ``module.``, ``device_buffer`` dropped.

    Raises CheckpointError if the file is missing, unreadable or holds no state dict.
    """
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        content = _torch_load(path)
    except Exception as exc:  # torch raises many types for corrupt/foreign files
        raise CheckpointError(f"checkpoint {path}: cannot be read by torch.load ({exc})") from exc

    if isinstance(content, Mapping) and "model_state" in content:
        state = content["model_state"]
    elif isinstance(content, Mapping) and "state_dict" in content:
        state = content["state_dict"]
    else:
        state = content
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        found = sorted(content.keys()) if isinstance(content, Mapping) else type(content).__name__
        raise CheckpointError(
            f"checkpoint {path}: no state dict found (expected a dict with 'model_state' or a "
            f"dict of tensors; top level has {found})"
        )

    weights: Dict[str, Tensor] = {}
    for key, value in state.items():
        name = key[len(PREFIX):] if key.startswith(PREFIX) else key
        if name in IGNORED_KEYS:
            continue
        if name in weights:
            raise CheckpointError(f"checkpoint {path}: key {name!r} occurs with and without 'module.'")
        weights[name] = value
    return weights


def _listing(lines: List[str]) -> str:
    shown = lines[:_MAX_LISTED]
    more = len(lines) - len(shown)
    return "\n  ".join(shown + ([f"... and {more} more"] if more else []))


def check_state_dict(model: nn.Module, weights: Mapping[str, Tensor], source: str) -> None:
    """Raise CheckpointError unless ``weights`` has exactly the model's parameter names and shapes
    (and floating-point values); the message lists every offending key."""
    expected = {name: tuple(p.shape) for name, p in model.named_parameters()}
    missing = [f"{k} (expected shape {list(s)})" for k, s in expected.items() if k not in weights]
    unexpected = [
        f"{k} (shape {list(v.shape)})" for k, v in weights.items() if k not in expected
    ]
    mismatched = [
        f"{k}: expected shape {list(expected[k])}, found {list(v.shape)}"
        for k, v in weights.items()
        if k in expected and tuple(v.shape) != expected[k]
    ]
    mistyped = [
        f"{k}: dtype {v.dtype} is not a floating-point type"
        for k, v in weights.items()
        if k in expected and not v.is_floating_point()
    ]
    if not (missing or unexpected or mismatched or mistyped):
        return
    parts = [f"checkpoint {source} does not match the model"]
    if mismatched:
        parts.append(f"{len(mismatched)} mis-shaped key(s):\n  " + _listing(mismatched))
    if mistyped:
        parts.append(f"{len(mistyped)} key(s) of the wrong dtype:\n  " + _listing(mistyped))
    if missing:
        parts.append(f"{len(missing)} missing key(s):\n  " + _listing(missing))
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected key(s):\n  " + _listing(unexpected))
    parts.append(
        "hint: check --model and the size options (--input-res, --mesh-level, --hidden-dim, "
        "--processor-layers); they must match the configuration the checkpoint was trained with"
    )
    raise CheckpointError("\n".join(parts))


def load_weights(model: nn.Module, path: str) -> None:
    """Strictly load checkpoint ``path`` into ``model``'s parameters (values cast to float32)."""
    weights = read_state_dict(path)
    check_state_dict(model, weights, path)
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_(weights[name])


def file_sha256(path: str) -> str:
    """Hex SHA-256 of a file (recorded in the export metadata)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
