// Running a risky read in a child process first, so that a crash there becomes an input error.
//
// Third-party file parsers can crash on a corrupt file: the fuzzer found HDF5 1.10.8 dereferencing
// a null pointer (H5F__accum_read) while looking up a dataset of an HDF5 file with one byte
// flipped. Such a crash cannot be caught in-process. Before the run reads an untrusted HDF5 file,
// the same reads are done in a forked child: if the child dies, the run stops with an InputError
// naming the file (exit code 2) instead of crashing later; if it finishes, the run does the reads
// itself, which then behave the same way (the library is deterministic on the same bytes).
#pragma once

#include <functional>
#include <string>

namespace neuralom {

/// Runs `probe` in a forked child and waits for it (up to `timeout_seconds`). Returns when the
/// child finished, whether or not `probe` threw (the caller does the same work next and reports
/// its own errors). Throws InputError("<what>: ...") when the child was killed by a signal,
/// exited abnormally (e.g. a sanitizer's report) or did not finish in time. Where fork() fails,
/// `probe` is skipped and this returns. The probe must not take locks another thread may hold.
void run_isolated_probe(const std::string& what, const std::function<void()>& probe, double timeout_seconds = 300.0);

}  // namespace neuralom
