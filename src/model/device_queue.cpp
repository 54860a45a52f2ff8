#include "neuralom/model/device_queue.h"

#include <stdexcept>

#ifdef NEURALOM_WITH_CUDA
#include "model/detail/cuda_queue.h"
#endif

namespace neuralom {

DeviceMarker DeviceMarker::record(const c10::Device& device) {
  DeviceMarker m;
  if (device.is_cuda()) {
#ifdef NEURALOM_WITH_CUDA
    m.cuda_ = detail::cuda_record_marker(device);
#else
    throw std::logic_error("DeviceMarker: a CUDA device in a build without CUDA");
#endif
  } else {
    m.host_time_ = std::chrono::steady_clock::now();
  }
  return m;
}

bool DeviceMarker::reached() const {
#ifdef NEURALOM_WITH_CUDA
  if (cuda_) return detail::cuda_marker_reached(*cuda_);
#endif
  return true;
}

void DeviceMarker::wait() const {
#ifdef NEURALOM_WITH_CUDA
  if (cuda_) detail::cuda_marker_wait(*cuda_);
#endif
}

double DeviceMarker::seconds_since(const DeviceMarker& earlier) const {
#ifdef NEURALOM_WITH_CUDA
  if (cuda_ && earlier.cuda_) return detail::cuda_seconds_between(*earlier.cuda_, *cuda_);
#endif
  if (cuda_ || earlier.cuda_) throw std::logic_error("DeviceMarker: markers of different devices");
  return std::chrono::duration<double>(host_time_ - earlier.host_time_).count();
}

InputUploader::InputUploader(const c10::Device& device) : device_(device) {
  if (device.is_cuda()) {
#ifdef NEURALOM_WITH_CUDA
    cuda_ = detail::cuda_copy_stream(device);
#else
    throw std::logic_error("InputUploader: a CUDA device in a build without CUDA");
#endif
  }
}

at::Tensor InputUploader::upload(const at::Tensor& host) const {
#ifdef NEURALOM_WITH_CUDA
  if (cuda_) return detail::cuda_upload(*cuda_, host);
#endif
  return host.to(device_, /*non_blocking=*/true);
}

}  // namespace neuralom
