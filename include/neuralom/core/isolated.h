// Running risky reads in a helper process first, so that a crash there becomes an input error.
//
// Third-party file parsers can crash on a corrupt file: the fuzzer found HDF5 1.10.8 dereferencing
// a null pointer (H5F__accum_read) while looking up a dataset of an HDF5 file with one byte
// flipped. Such a crash cannot be caught in-process. Before the run reads its untrusted HDF5 files,
// the same reads are done in a helper process: if the helper dies, the run stops with an InputError
// naming the file being read (exit code 2) instead of crashing later; if it finishes, the run does
// the reads itself, which then behave the same way (the library is deterministic on the same bytes).
//
// The helper is forked on first use and serves probes over a socket until it has been idle for a
// few seconds, the process exits (then it is also reaped), or stop_isolated_probes() is called; a
// crashed helper is replaced on the next call. One fork per process instead of one per call: a process that plans many runs
// (the fuzzer, a library user) does not pay a fork, with its page-table copy, for each.
#pragma once

#include <string>
#include <vector>

namespace neuralom {

/// A probe, run in the helper: a plain function, because the helper is a copy of this process
/// made before the call and sees none of the caller's later state; `subject` is the file to read
/// and `argument` anything else the probe needs, as text. Errors it throws are ignored (the caller
/// does the same work next and reports its own errors).
using IsolatedProbe = void (*)(const std::string& subject, const std::string& argument);

/// Runs `probe(subject, argument)` for each subject, in order, in the helper process, waiting up
/// to `timeout_seconds` for each. Returns when all finished, whether or not a probe threw. Throws
/// InputError("<subject>: ...") naming the subject being probed when the helper was killed by a
/// signal, exited abnormally (e.g. with a sanitizer's report) or did not finish in time (it is
/// then killed). Where no helper can be started (fork or socketpair fails), nothing is probed and
/// this returns. Probes must not take locks that another thread of the process may have held when
/// the helper was forked. Thread-safe: calls are serialised.
void run_isolated_probes(const std::vector<std::string>& subjects, IsolatedProbe probe,
                         const std::string& argument = std::string(), double timeout_seconds = 300.0);

/// Stops the helper now, if there is one (the next run_isolated_probes starts another). A
/// long-running process calls it when it has finished validating inputs, so that the helper does
/// not keep a copy of its memory alive. Never throws.
void stop_isolated_probes() noexcept;

}  // namespace neuralom
