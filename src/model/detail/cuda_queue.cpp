#include "model/detail/cuda_queue.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

namespace neuralom::detail {

struct CudaMarker {
  at::cuda::CUDAEvent event{cudaEventDefault};  // with timing
};

struct CudaCopyStream {
  c10::Device device;
  c10::cuda::CUDAStream stream;
};

std::shared_ptr<CudaMarker> cuda_record_marker(const c10::Device& device) {
  auto marker = std::make_shared<CudaMarker>();
  marker->event.record(c10::cuda::getCurrentCUDAStream(device.index()));
  return marker;
}

bool cuda_marker_reached(const CudaMarker& marker) { return marker.event.query(); }

void cuda_marker_wait(const CudaMarker& marker) { marker.event.synchronize(); }

double cuda_seconds_between(const CudaMarker& earlier, const CudaMarker& later) {
  later.event.synchronize();
  return static_cast<double>(earlier.event.elapsed_time(later.event)) / 1000.0;
}

std::shared_ptr<CudaCopyStream> cuda_copy_stream(const c10::Device& device) {
  return std::make_shared<CudaCopyStream>(
      CudaCopyStream{device, c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device.index())});
}

at::Tensor cuda_upload(const CudaCopyStream& copy, const at::Tensor& host) {
  const c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(copy.device.index());
  at::Tensor out;
  {
    c10::cuda::CUDAStreamGuard guard(copy.stream);
    // Asynchronous from pinned memory; LibTorch records the copy in the caching host allocator,
    // so that the pinned block is not reused before the copy has read it.
    out = host.to(copy.device, /*non_blocking=*/true);
  }
  at::cuda::CUDAEvent copied;  // no timing: a pure ordering event
  copied.record(copy.stream);
  copied.block(compute);
  // `out` was allocated on the copy stream and is used (and freed) on the compute stream: tell
  // the caching allocator, so that its memory is not reused before the compute stream is done.
  out.record_stream(compute);
  return out;
}

}  // namespace neuralom::detail
