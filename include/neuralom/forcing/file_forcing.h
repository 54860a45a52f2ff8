// Simulation mode's forcing: the atmospheric channels of the ocean data file itself.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "neuralom/forcing/forcing_source.h"

namespace neuralom {

/// Forcing read from the ocean data: channels `channels` of the normalised input days.
class FileForcing : public ForcingSource {
 public:
  /// `channels`: positions of the forcing channels within the input days' channel axis.
  FileForcing(std::vector<int64_t> channels, c10::Device device);
  void begin(const std::vector<int64_t>& ics) override;
  /// `z_prev`, `z_next` `[B, n_in, H, W]` → their forcing channels `[B, F, H, W]` (views where the
  /// channels are contiguous). Never throws for inputs of the documented shape.
  std::pair<at::Tensor, at::Tensor> pair(int64_t step, const at::Tensor& z_prev, const at::Tensor& z_next) override;

 private:
  at::Tensor select(const at::Tensor& z) const;
  std::vector<int64_t> channels_;
  at::Tensor index_;  // on the device
  int64_t first_ = 0;
  bool contiguous_ = true;
};

}  // namespace neuralom
