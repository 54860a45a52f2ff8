#include "io/detail/hdf5_handle.h"

namespace neuralom::detail {
namespace {

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

}  // namespace

Hdf5Lock::Hdf5Lock() : lock_(hdf5_mutex()) {
  // HDF5 closes whatever is still open from an atexit() handler. A file whose close failed (the
  // disk filled up while it was written) stays in HDF5's tables half torn down, and that handler
  // then crashes on it (HDF5 1.10: SIGSEGV in H5F__close_cb), turning a clean "disk full" error
  // into a core dump at exit. Every file of ours is closed explicitly (RAII), so the handler has
  // nothing to do; it is switched off before the library initialises (later calls are no-ops).
  static const bool no_atexit = H5dont_atexit() >= 0;
  (void)no_atexit;
  // HDF5 prints its error stack to stderr by default; we report errors ourselves. A thread-safe
  // HDF5 build (Debian's is one) keeps this setting per thread, so each thread switches it off.
  thread_local bool silenced = false;
  if (!silenced) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    silenced = true;
  }
}

}  // namespace neuralom::detail
