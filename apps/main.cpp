// `neuralom`: the command-line front end. It only dispatches to subcommands and turns exceptions
// into exit codes (see neuralom/core/errors.h); all logic lives in the neuralom library.
#include <csignal>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "commands.h"
#include "neuralom/core/errors.h"
#include "neuralom/core/version.h"

namespace {

constexpr const char* kUsage =
    "usage: neuralom <command> [options]\n"
    "\n"
    "commands:\n"
    "  simulate    run NeuralOM forced by the atmospheric fields of the data (the reference's simulation mode)\n"
    "  forecast    run NeuralOM forced by an AI atmosphere model (the reference's forecasting mode)\n"
    "  merge       combine the output directories of a run's shards (--shard K/N) into its final outputs\n"
    "  bench       time a run: per-stage seconds per day-step, throughput, memory, I/O wait\n"
    "  info        version, LibTorch, CUDA devices, threads and BLAS in use\n"
    "\n"
    "Run `neuralom <command> --help` for the options of a command. simulate and forecast also run as the\n"
    "ranks of an MPI job: mpirun -np N neuralom simulate ...\n"
    "Options: --version, --help\n";

int dispatch(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::cout << kUsage;
    return argc < 2 ? neuralom::kExitBadInput : neuralom::kExitOk;
  }
  const std::string command = argv[1];
  if (command == "--version" || command == "version") {
    std::cout << neuralom::version_line() << "\n";
    return neuralom::kExitOk;
  }
  if (command == "info") return neuralom::app::run_info(argc - 1, argv + 1);
  if (command == "simulate") return neuralom::app::run_simulate(argc - 1, argv + 1);
  if (command == "forecast") return neuralom::app::run_forecast(argc - 1, argv + 1);
  if (command == "bench") return neuralom::app::run_bench(argc - 1, argv + 1);
  if (command == "merge") return neuralom::app::run_merge(argc - 1, argv + 1);
  std::cerr << "neuralom: unknown command '" << command << "'\n\n" << kUsage;
  return neuralom::kExitBadInput;
}

}  // namespace

int main(int argc, char** argv) {
  // Past `ulimit -f` a write would kill the process with SIGXFSZ, leaving its temporary files
  // behind; ignored, the write fails with EFBIG and the run ends with an OutputError, cleaned up.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return dispatch(argc, argv);
  } catch (const neuralom::Error& e) {
    // In an MPI job every rank stops with the error; rank 0 alone prints it.
    if (e.print_here()) std::cerr << "neuralom: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "neuralom: internal error: " << e.what() << "\n";
    return neuralom::kExitInternal;
  }
}
