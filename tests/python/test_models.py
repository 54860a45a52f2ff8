"""The networks reproduce the reference's golden outputs, eagerly and as saved TorchScript, and the
runtime switches (batching, static cache, edge chunking) do not change results."""

import pytest
import torch

from exporter_testlib import forward_tolerance, golden_array, max_abs
from neuralom_export.models import build_graph_for, make_config, random_model
from neuralom_export.network import parameter_count

FLAVOURS = ["eager", "script"]


@pytest.fixture(scope="module")
def models(eager_models, scripted_models):
    return {"eager": eager_models, "script": scripted_models}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_stage1_reproduces_reference(models, flavour):
    y1_raw = models[flavour]["stage1"](golden_array("ocean_small", "x"))
    reference = golden_array("ocean_small", "y1_raw")
    error = max_abs(y1_raw, reference)
    print(f"stage1 {flavour}: max abs error {error:.3g}")
    assert error <= forward_tolerance(reference)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_stage2_correction_reproduces_reference(models, flavour):
    y1 = golden_array("ocean_small", "y1")  # masked stage-1 output
    y = models[flavour]["stage2"](y1) + y1
    reference = golden_array("ocean_small", "y")
    error = max_abs(y, reference)
    print(f"stage2 {flavour}: max abs error {error:.3g}")
    assert error <= forward_tolerance(reference)


def test_masking_stage1_output_gives_golden_y1(models):
    y1_raw = models["script"]["stage1"](golden_array("ocean_small", "x"))
    mask = golden_array("ocean_small", "mask")
    y1 = torch.where(mask, y1_raw, torch.zeros(()))
    reference = golden_array("ocean_small", "y1")
    assert max_abs(y1, reference) <= forward_tolerance(reference)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_atmos_substeps_reproduce_reference(models, flavour):
    state = golden_array("atmos_small", "x")
    for substep in range(1, 5):
        state = models[flavour]["atmos"](state)
        reference = golden_array("atmos_small", f"y_substep{substep}")
        error = max_abs(state, reference)
        print(f"atmos {flavour} substep {substep}: max abs error {error:.3g}")
        # Each sub-step feeds the last one's output back: the bound grows with the sub-step.
        assert error <= substep * forward_tolerance(reference), f"substep {substep}"


@pytest.mark.parametrize("kind,case", [("stage1", "ocean_small"), ("atmos", "atmos_small")])
def test_script_equals_eager(models, kind, case):
    x = golden_array(case, "x")
    assert torch.equal(models["script"][kind](x), models["eager"][kind](x))


@pytest.mark.parametrize("kind,case", [("stage1", "ocean_small"), ("atmos", "atmos_small")])
def test_batch_of_two_equals_two_single_calls(scripted_models, kind, case):
    model = scripted_models[kind]
    x = golden_array(case, "x")
    batch = torch.cat([x, 0.5 * x.flip(-1)])
    out = model(batch)
    assert out.shape == (2, x.size(1) if kind == "atmos" else 93, 32, 64)
    assert out.is_contiguous()
    assert torch.equal(out[0:1], model(batch[0:1]))
    assert torch.equal(out[1:2], model(batch[1:2]))


@pytest.mark.parametrize("kind,case", [("stage1", "ocean_small"), ("atmos", "atmos_small")])
def test_static_cache_and_chunking_keep_results(scripted_models, kind, case):
    model = scripted_models[kind]
    x = golden_array(case, "x")
    plain = model(x)
    # Chunked edge MLPs and the cached static term reorder float32 sums (float32_bounds.py).
    bound = forward_tolerance(plain)
    try:
        model.build_static_cache()
        assert model.static_cache_built()
        assert max_abs(model(x), plain) <= bound
        model.set_edge_chunk(1000)  # several chunks for g2m (3240+) and m2g (6144) edges
        assert max_abs(model(x), plain) <= bound
        model.clear_static_cache()
        assert not model.static_cache_built()
        assert max_abs(model(x), plain) <= bound
        model.build_static_cache()  # built while chunking
        assert max_abs(model(x), plain) <= bound
    finally:
        model.clear_static_cache()
        model.set_edge_chunk(0)


@pytest.mark.parametrize(
    "kind,case,array", [("stage1", "ocean_small", "x"), ("stage2", "ocean_small", "y1"), ("atmos", "atmos_small", "x")]
)
@pytest.mark.parametrize("chunk", [0, 1000])
def test_light_static_cache_equals_the_full_one(scripted_models, kind, case, array, chunk):
    """The light cache leaves out only the m2g term and recomputes it per chunk exactly as the full
    cache computed it when it was built: bit-for-bit the same forward."""
    model = scripted_models[kind]
    x = golden_array(case, array)
    try:
        model.set_edge_chunk(chunk)
        model.build_static_cache()
        full = model(x)
        assert model.cache_m2g_proj.size(0) == model.m2g_src.size(0)
        model.build_light_static_cache()
        assert model.static_cache_built()
        assert model.cache_m2g_proj.numel() == 0
        assert model.cache_g2m_proj.size(0) == model.g2m_src.size(0)
        assert torch.equal(model(x), full)
        model.clear_static_cache()
        assert not model.static_cache_built()
    finally:
        model.clear_static_cache()
        model.set_edge_chunk(0)


def _ocean_nodes(mask: torch.Tensor) -> torch.Tensor:
    """Grid nodes that are ocean in at least one channel (what the engine computes)."""
    return mask.any(dim=0).flatten().nonzero().squeeze(1)


@pytest.mark.parametrize("kind,array", [("stage1", "x"), ("stage2", "y1")])
@pytest.mark.parametrize("cache", ["off", "light", "full"])
@pytest.mark.parametrize("chunk", [0, 1000])
def test_output_nodes_keep_their_values_and_zero_the_rest(scripted_models, kind, array, cache, chunk):
    """Restricting the decoder to the ocean nodes of the golden mask keeps each computed node's
    edges and summation order; only BLAS, given fewer rows, may block a product differently
    (float32 rounding: OpenBLAS does on these shapes). The other nodes are exactly 0."""
    model = scripted_models[kind]
    x = golden_array("ocean_small", array)
    nodes = _ocean_nodes(golden_array("ocean_small", "mask")[0])
    land = torch.ones(32 * 64, dtype=torch.bool)
    land[nodes] = False
    assert 0 < int(land.sum()) < 32 * 64  # the golden mask has land nodes in every channel
    try:
        model.set_edge_chunk(chunk)
        if cache == "full":
            model.build_static_cache()
        elif cache == "light":
            model.build_light_static_cache()
        full = model(x)
        model.set_output_nodes(nodes)
        assert torch.equal(model.get_output_nodes(), nodes)
        # Only the m2g edges into the output nodes are evaluated (and cached).
        into = land.logical_not()[model.m2g_dst]
        assert torch.equal(model.decoder_src, model.m2g_src[into])
        assert model.decoder_dst.size(0) == int(into.sum()) < model.m2g_dst.size(0)
        if cache == "full":
            assert model.cache_m2g_proj.size(0) == int(into.sum())
        subset = model(x).view(1, -1, 32 * 64)
        expected = full.view(1, -1, 32 * 64)
        assert max_abs(subset[:, :, nodes], expected[:, :, nodes]) <= forward_tolerance(expected)
        assert bool((subset[:, :, land] == 0).all())
        model.clear_output_nodes()
        assert model.get_output_nodes().numel() == 0
        assert torch.equal(model(x), full)
        if cache == "full":
            assert model.cache_m2g_proj.size(0) == model.m2g_src.size(0)
    finally:
        model.clear_output_nodes()
        model.clear_static_cache()
        model.set_edge_chunk(0)


def test_masked_output_with_output_nodes_equals_the_golden_y1(scripted_models):
    model = scripted_models["stage1"]
    mask = golden_array("ocean_small", "mask")
    try:
        model.set_output_nodes(_ocean_nodes(mask[0]))
        y1 = torch.where(mask, model(golden_array("ocean_small", "x")), torch.zeros(()))
    finally:
        model.clear_output_nodes()
    reference = golden_array("ocean_small", "y1")
    assert max_abs(y1, reference) <= forward_tolerance(reference)


@pytest.mark.parametrize(
    "nodes,message",
    [
        (torch.tensor([3, 2]), "strictly increasing"),
        (torch.tensor([2, 2]), "strictly increasing"),
        (torch.tensor([-1, 5]), "must lie in \\[0, 2048\\)"),
        (torch.tensor([0, 2048]), "must lie in \\[0, 2048\\)"),
        (torch.tensor([], dtype=torch.long), "none given"),
        (torch.tensor([0.0, 1.0]), "1-d int64"),
        (torch.tensor([[0, 1]]), "1-d int64"),
    ],
)
def test_bad_output_nodes_are_rejected(scripted_models, nodes, message):
    model = scripted_models["stage1"]
    with pytest.raises(Exception, match=message):
        model.set_output_nodes(nodes)
    assert model.get_output_nodes().numel() == 0


def test_bad_inputs_are_rejected(scripted_models):
    model = scripted_models["stage2"]
    with pytest.raises(Exception, match="expected \\[B >= 1, 93, 32, 64\\]"):
        model(torch.zeros(1, 92, 32, 64))
    with pytest.raises(Exception, match="float32"):
        model(torch.zeros(1, 93, 32, 64, dtype=torch.float64))
    with pytest.raises(Exception, match="B >= 1"):
        model(torch.zeros(0, 93, 32, 64))
    with pytest.raises(Exception, match="edge chunk"):
        model.set_edge_chunk(-1)


def test_random_model_is_deterministic_and_leaves_global_rng_alone():
    config = make_config("stage2", input_res=(8, 16), mesh_level=1, hidden_dim=8, processor_layers=3)
    graph = build_graph_for(config)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = random_model(config, seed=7, graph=graph)
    assert torch.equal(torch.rand(1), expected_next)
    second = random_model(config, seed=7, graph=graph)
    other = random_model(config, seed=8, graph=graph)
    a, b, c = (dict(m.named_parameters()) for m in (first, second, other))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("kind", ["stage1", "atmos"])
def test_eager_model_can_be_trained(kind):
    """No in-place update breaks autograd (the eager model is also a training baseline)."""
    config = make_config(kind, input_res=(8, 16), mesh_level=1, hidden_dim=8, processor_layers=3)
    model = random_model(config, seed=0).train()
    with torch.enable_grad():
        model(torch.randn(2, config.in_channels, 8, 16)).square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize(
    "kind,keys,parameters",
    [("stage1", 484, 55_099_981), ("stage2", 484, 55_096_525), ("atmos", 420, 49_990_981)],
)
def test_reference_sizes_have_the_reference_parameter_counts(kind, keys, parameters):
    """model-spec §5.4/§6.4 (reference keys minus ``device_buffer``); grid and mesh do not change
    the parameters, so a tiny graph keeps this cheap."""
    config = make_config(kind, input_res=(2, 4), mesh_level=0)
    model = random_model(config, seed=0)
    assert len(dict(model.named_parameters())) == keys
    assert parameter_count(model) == parameters
