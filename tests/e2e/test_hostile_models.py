"""Hostile models: TorchScript archives whose neuralom.json lies about the network, whose forward
has another signature or output, that return NaN/Inf, or that declare absurd sizes. Each is
refused before any forecast is computed — by plan_run (metadata) or by the load's checks and probe
forward (the network itself) — with a message naming the file, and exit code 2; nothing is written.

The models are made here: tiny torch.jit.script modules with a forged neuralom.json in
_extra_files, and the golden stage models re-saved with edited metadata."""

import json

import pytest
import torch
from torch import Tensor, nn

from conftest import GOLDEN

OCEAN_DATA = GOLDEN / "ocean_small" / "data"
ATMOS_DATA = GOLDEN / "ocean_small_forecasting" / "data"
GRID = [32, 64]


def metadata(kind="stage1", in_channels=101, out_channels=93, grid=GRID, **extra):
    meta = {"format": "neuralom-model", "format_version": 1, "model": kind, "reference_class": "Tiny",
            "in_channels": in_channels, "out_channels": out_channels, "grid": grid, "mesh_level": 3,
            "hidden_dim": 32, "processor_layers": 4}
    if kind == "atmos":
        meta.update(substeps_per_day=4, forcing_channels=[65, 66, 67, 68])
    meta.update(extra)
    return meta


def save(module, path, meta):
    scripted = module if isinstance(module, torch.jit.ScriptModule) else torch.jit.script(module)
    torch.jit.save(scripted, str(path), _extra_files={"neuralom.json": json.dumps(meta)})
    return path


class Conv(nn.Module):
    """A 1x1 convolution: any grid, `cin -> cout` channels, small weights (finite outputs)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.proj = nn.Conv2d(cin, cout, 1)
        with torch.no_grad():
            self.proj.weight.mul_(0.01)
            self.proj.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x)


class Cropping(Conv):
    """Returns a smaller grid than it is given."""

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x)[:, :, :16, :32]


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(101, 93, 1)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.proj(x + y)


class ReturnsTuple(Conv):
    def forward(self, x: Tensor):  # type: ignore[override]
        y = self.proj(x)
        return y, y


class ReturnsNaN(Conv):
    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x) * float("nan")


class ReturnsInf(Conv):
    def forward(self, x: Tensor) -> Tensor:
        y = self.proj(x)
        y[:, 5, 3, 4] = float("inf")
        return y


class NaNOnLargeInputs(Conv):
    """Finite for the probe's inputs in [-1, 1], NaN once real anomalies exceed them."""

    def forward(self, x: Tensor) -> Tensor:
        y = self.proj(x)
        if bool((x.abs() > 1.5).any()):
            y = y * float("nan")
        return y


class ReturnsDouble(Conv):
    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).double()


class Raises(Conv):
    def forward(self, x: Tensor) -> Tensor:
        if bool(x.sum() == x.sum()):
            raise RuntimeError("this network refuses to run")
        return self.proj(x)


def simulate(neuralom, stage1, stage2, out, *extra):
    return neuralom("simulate", "--data-dir", OCEAN_DATA, "--stages", f"{stage1},{stage2}",
                    "--prediction-length", 3, "--ics", "0", "--output", out, "--threads", 2, *extra)


def forecast(neuralom, stages, atmos, out):
    return neuralom("forecast", "--data-dir", OCEAN_DATA, "--stages", f"{stages[0]},{stages[1]}",
                    "--atmos", atmos, "--atmos-dir", ATMOS_DATA / "test_atmos",
                    "--atmos-mean", ATMOS_DATA / "mean_atmos.npy", "--atmos-std", ATMOS_DATA / "std_atmos.npy",
                    "--prediction-length", 3, "--ics", "0", "--output", out, "--threads", 2)


def assert_refused(result, fragments, out):
    assert result.returncode == 2, f"exit {result.returncode}\nstdout:{result.stdout}\nstderr:{result.stderr}"
    for fragment in fragments:
        assert fragment in result.stderr, f"'{fragment}' not in: {result.stderr}"
    assert "internal error" not in result.stderr
    # Refused before compute: no day was stepped, nothing was written.
    assert "finished IC" not in result.stderr
    # Nor is the --output directory left behind.
    assert not out.exists(), f"{out} was created: {list(out.iterdir())}"


@pytest.fixture(scope="module")
def tiny_stage2(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "tiny_stage2.pt"
    return save(Conv(93, 93), path, metadata("stage2", 93, 93))


def test_honest_tiny_model_runs(neuralom, tiny_stage2, tmp_path):
    """The checks refuse lies, not strangers: any network that keeps the contract runs."""
    s1 = save(Conv(101, 93), tmp_path / "s1.pt", metadata())
    result = simulate(neuralom, s1, tiny_stage2, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "metrics.csv").exists()


# (module, metadata, fragments of the message)
NETWORK_CASES = {
    "metadata lies about input channels": (
        lambda: Conv(97, 93), metadata(), ["fails on an input of its declared shape [1, 101, 32, 64]"]),
    "metadata lies about output channels": (
        lambda: Conv(101, 90), metadata(), ["shape [1, 90, 32, 64]", "expected float32 [1, 93, 32, 64]"]),
    "metadata lies about the grid": (
        lambda: Cropping(101, 93), metadata(), ["shape [1, 93, 16, 32]", "[1, 93, 32, 64]"]),
    "forward takes two tensors": (
        TwoInputs, metadata(), ["signature", "forward(x: Tensor) -> Tensor"]),
    "forward returns a tuple": (
        lambda: ReturnsTuple(101, 93), metadata(), ["signature", "not returning one tensor"]),
    "returns NaN": (
        lambda: ReturnsNaN(101, 93), metadata(), ["NaN/Inf", "190464"]),
    "returns Inf": (
        lambda: ReturnsInf(101, 93), metadata(), ["returns 1 NaN/Inf values"]),
    "returns float64": (
        lambda: ReturnsDouble(101, 93), metadata(), ["Double", "expected float32"]),
    "forward raises": (
        lambda: Raises(101, 93), metadata(), ["this network refuses to run"]),
}


@pytest.mark.parametrize("case", sorted(NETWORK_CASES))
def test_hostile_network_is_refused_before_compute(neuralom, tiny_stage2, tmp_path, case):
    make, meta, fragments = NETWORK_CASES[case]
    s1 = save(make(), tmp_path / "s1.pt", meta)
    out = tmp_path / "out"
    assert_refused(simulate(neuralom, s1, tiny_stage2, out), [str(s1)] + fragments, out)


# Absurd or self-contradictory metadata: refused by plan_run, before any model is loaded.
METADATA_CASES = {
    "huge grid": (metadata(grid=[10**9, 10**9]), ["grid rows = 1000000000", "outside 1..1048576"]),
    "huge channel count": (metadata(in_channels=2**40, out_channels=93), ["in_channels = 1099511627776"]),
    "integer beyond int64": (metadata(in_channels=2**63 + 5), ["in_channels", "too large"]),
    "negative mesh level": (metadata(mesh_level=-3), ["mesh_level = -3"]),
    "mesh level against node count": (metadata(graph={"mesh_nodes": 642}, mesh_level=5),
                                      ["mesh level 5", "10242 nodes", "642 nodes"]),
    "forcing channels do not add up": (metadata(forcing_channels_per_day=3), ["3 forcing channels per day", "imply 4"]),
    "odd channel difference": (metadata(in_channels=100), ["100 -> 93", "ocean + 2 x forcing"]),
}


@pytest.mark.parametrize("case", sorted(METADATA_CASES))
def test_absurd_metadata_is_refused_before_loading(neuralom, tiny_stage2, tmp_path, case):
    meta, fragments = METADATA_CASES[case]
    s1 = save(Conv(101, 93), tmp_path / "s1.pt", meta)
    out = tmp_path / "out"
    assert_refused(simulate(neuralom, s1, tiny_stage2, out, "--dry-run"), [str(s1)] + fragments, out)


def resave_with_metadata(source, target, edit):
    """The exported network `source` saved again with its neuralom.json edited by `edit`."""
    extra = {"neuralom.json": ""}
    module = torch.jit.load(str(source), map_location="cpu", _extra_files=extra)
    meta = json.loads(extra["neuralom.json"])
    edit(meta)
    return save(module, target, meta)


def lie_mesh_level(meta):
    meta["mesh_level"] = 4
    meta.pop("graph")


def lie_hidden_dim(meta):
    meta["hidden_dim"] = 64


@pytest.mark.parametrize("edit,fragments", [
    (lie_mesh_level, ["mesh level 4", "network's mesh has 642 nodes"]),
    (lie_hidden_dim, ["hidden_dim = 64", "network's hidden_dim is 32"]),
], ids=["mesh level", "hidden width"])
def test_exported_network_with_forged_metadata_is_refused(neuralom, golden_stages, tmp_path, edit, fragments):
    s1 = resave_with_metadata(golden_stages[0], tmp_path / "forged.pt", edit)
    out = tmp_path / "out"
    assert_refused(simulate(neuralom, s1, golden_stages[1], out), [str(s1)] + fragments, out)


def test_nan_only_on_real_data_stops_at_the_first_step(neuralom, tiny_stage2, tmp_path):
    """The probe cannot see what only real data triggers: the first step's NaN check stops the run,
    naming the lead day, before any output is committed."""
    s1 = save(NaNOnLargeInputs(101, 93), tmp_path / "s1.pt", metadata())
    out = tmp_path / "out"
    result = simulate(neuralom, s1, tiny_stage2, out, "--save-fields")
    assert result.returncode == 2, result.stderr
    assert "lead day 1" in result.stderr and "NaN" in result.stderr
    assert "internal error" not in result.stderr
    # The run created --output; failing before any batch was finished, it removes it again.
    assert not out.exists(), f"outputs were left: {list(out.iterdir())}"


def test_hostile_atmosphere_model_is_refused(neuralom, golden_stages, tmp_path):
    atmos = save(Cropping(69, 69), tmp_path / "atmos.pt", metadata("atmos", 69, 69))
    out = tmp_path / "out"
    assert_refused(forecast(neuralom, golden_stages, atmos, out), [str(atmos), "shape [1, 69, 16, 32]"], out)
