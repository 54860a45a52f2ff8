"""Pure-PyTorch rebuild of the NeuralOM reference networks and their TorchScript exporter.

Modules (one job each):
  icosphere   icosahedral mesh hierarchy, two-split refinement, multimesh, local refinement
  graph       lat/lon grid, mesh/g2m/m2g edges and static features (as the reference builds them)
  graph_file  graph arrays to/from .npz (--graph), their validation and provenance record
  ops         graph primitives: gather, scatter-sum, edge softmax (plain tensor ops, no DGL)
  layers      MLPs and message-passing blocks of the reference networks
  config      model configurations (reference defaults, validated overrides)
  network     GraphForecastModel: MIGraph (stage 1), MIGraph_stage2 (stage 2), OneForecast (atmos)
  models      constructing networks: build_model, random_model, load_model (stable entry points)
  checkpoint  strict loading of reference checkpoints
  export      scripting, metadata (neuralom.json) and atomic writing of the TorchScript archive
  cli         the command line behind scripts/export_torchscript.py
"""

__version__ = "1.2.0"
