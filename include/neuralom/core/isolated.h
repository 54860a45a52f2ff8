// Running risky reads in a child process first, so that a crash there becomes an input error.
//
// Third-party file parsers can crash on a corrupt file: the fuzzer found HDF5 1.10.8 dereferencing
// a null pointer (H5F__accum_read) while looking up a dataset of an HDF5 file with one byte
// flipped. Such a crash cannot be caught in-process. Before the run reads its untrusted HDF5 files,
// the same reads are done in one forked child: if the child dies, the run stops with an InputError
// naming the file being read (exit code 2) instead of crashing later; if it finishes, the run does
// the reads itself, which then behave the same way (the library is deterministic on the same bytes).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace neuralom {

/// Runs `probe(i)` for each i < subjects.size(), in order, in one forked child, and waits for it
/// (up to `timeout_seconds`). Returns when the child finished, whether or not a probe threw (the
/// caller does the same work next and reports its own errors; the child goes on with the next
/// subject). Throws InputError("<subject>: ...") naming the subject being probed when the child
/// was killed by a signal, exited abnormally (e.g. with a sanitizer's report) or did not finish in
/// time. Where fork() fails, nothing is probed and this returns. The probes must not take locks
/// that another thread of the process may hold.
void run_isolated_probes(const std::vector<std::string>& subjects, const std::function<void(std::size_t)>& probe,
                         double timeout_seconds = 300.0);

}  // namespace neuralom
