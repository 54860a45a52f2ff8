// The HDF5 C library behind one process-wide lock, and RAII for its identifiers.
//
// The HDF5 library shipped by most distributions is not built thread-safe, and the engine reads
// inputs on a prefetch thread while it writes results on another: every HDF5 call made by io/
// holds Hdf5Lock, and every identifier lives in a Handle that closes it under the lock.
#pragma once

#include <hdf5.h>

#include <mutex>
#include <utility>

namespace neuralom::detail {

/// Held around every HDF5 call. Recursive, because public functions call one another and handles
/// close (under the lock) while a caller still holds it. Switches HDF5's error printing off for
/// the calling thread.
class Hdf5Lock {
 public:
  Hdf5Lock();

 private:
  std::lock_guard<std::recursive_mutex> lock_;
};

/// An HDF5 identifier, closed by its H5?close function on scope exit.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), closer_(other.closer_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, -1);
      closer_ = other.closer_;
    }
    return *this;
  }
  ~Handle() { reset(); }

  void reset() {
    if (id_ >= 0 && closer_ != nullptr) {
      Hdf5Lock lock;  // handles may be dropped outside a locked section (moves, destructors)
      closer_(id_);
    }
    id_ = -1;
  }
  /// Gives up ownership without closing.
  hid_t release() { return std::exchange(id_, -1); }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

}  // namespace neuralom::detail
