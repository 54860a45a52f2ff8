// CUDA events and the input copy stream behind model/device_queue.h. Compiled only in a CUDA
// build (NEURALOM_WITH_CUDA); nothing outside src/model/ includes it.
#pragma once

#include <memory>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace neuralom::detail {

struct CudaMarker;
struct CudaCopyStream;

/// A timing event recorded on `device`'s current stream.
std::shared_ptr<CudaMarker> cuda_record_marker(const c10::Device& device);
bool cuda_marker_reached(const CudaMarker& marker);
void cuda_marker_wait(const CudaMarker& marker);
/// Milliseconds between the events, in seconds; waits for `later`.
double cuda_seconds_between(const CudaMarker& earlier, const CudaMarker& later);

/// A stream of the pool on `device`, for host-to-device input copies.
std::shared_ptr<CudaCopyStream> cuda_copy_stream(const c10::Device& device);
/// `host` copied to the copy stream's device on the copy stream; the device's current stream
/// waits for the copy (an event), and the result is recorded as used by that stream.
at::Tensor cuda_upload(const CudaCopyStream& stream, const at::Tensor& host);

}  // namespace neuralom::detail
