#include "io/detail/hdf5_handle.h"

namespace neuralom::detail {
namespace {

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

}  // namespace

Hdf5Lock::Hdf5Lock() : lock_(hdf5_mutex()) {
  // HDF5's exit handler closes what is still open, and crashes (HDF5 1.10) on a file whose
  // flush failed, e.g. on a full disk: the process would die with SIGSEGV after reporting the
  // error. Every file is closed by its owner, so the handler is not needed. This must come before
  // the library initialises itself, i.e. before any other HDF5 call.
  static const bool no_exit_handler = H5dont_atexit() >= 0;
  (void)no_exit_handler;
  // HDF5 prints its error stack to stderr by default; we report errors ourselves. A thread-safe
  // HDF5 build (Debian's is one) keeps this setting per thread, so each thread switches it off.
  thread_local bool silenced = false;
  if (!silenced) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    silenced = true;
  }
}

}  // namespace neuralom::detail
