// Working with a device's queue of work without stalling the host: markers that time and track
// queued work (CUDA events on a GPU), and input uploads on a separate copy stream.
//
// On a CPU every operation has finished when it returns, so a marker is the host clock and an
// upload is `Tensor::to`. On CUDA, kernels run asynchronously after the host queued them; reading a
// result on the host (`.item()`, `.cpu()`) waits for everything queued before it. The rollout uses
// these classes so that the host never waits on the GPU inside the day loop (docs/gpu.md lists the
// synchronisations that remain, and why).
//
// The CUDA implementations live in src/model/detail/cuda_queue.cpp, compiled only in a CUDA build.
#pragma once

#include <chrono>
#include <memory>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace neuralom {

namespace detail {
struct CudaMarker;
struct CudaCopyStream;
}  // namespace detail

/// A point in a device's queue of work.
class DeviceMarker {
 public:
  /// A marker after all work queued so far on `device`'s current stream: a CUDA event (with
  /// timing) recorded there, or on the CPU the host clock now. Never blocks.
  static DeviceMarker record(const c10::Device& device);

  /// Whether the device has done all work queued before the marker. Never blocks.
  bool reached() const;
  /// Blocks the host until the device has done all work queued before the marker.
  void wait() const;
  /// Device time in seconds from `earlier` to this marker (same device); waits for this marker.
  double seconds_since(const DeviceMarker& earlier) const;

 private:
  std::chrono::steady_clock::time_point host_time_;
  std::shared_ptr<detail::CudaMarker> cuda_;  ///< null on the CPU
};

/// Copies host inputs to a device. On CUDA the copy runs on a copy stream of its own, so that it
/// overlaps the kernels already queued on the compute stream, and the compute stream waits for it
/// (an event, not the host) before it uses the result.
class InputUploader {
 public:
  explicit InputUploader(const c10::Device& device);

  /// `host`: a CPU tensor, in pinned memory for a truly asynchronous CUDA copy (the day reader
  /// pins on CUDA). Returns the same values on the device; on the CPU `host` itself. The host
  /// buffer may be released at once: the caching host allocator keeps a pinned block until the
  /// copies queued from it have finished. Never blocks on the device.
  at::Tensor upload(const at::Tensor& host) const;

 private:
  c10::Device device_;
  std::shared_ptr<detail::CudaCopyStream> cuda_;  ///< null on the CPU
};

}  // namespace neuralom
