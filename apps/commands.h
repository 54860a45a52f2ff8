// Entry points of the `neuralom` subcommands. Each takes the arguments after the subcommand name
// (argv[0] is the subcommand) and returns the process exit code; errors propagate as exceptions.
#pragma once

namespace neuralom::app {

int run_info(int argc, char** argv);
int run_simulate(int argc, char** argv);
int run_forecast(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_merge(int argc, char** argv);

}  // namespace neuralom::app
