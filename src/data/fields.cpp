#include "neuralom/data/fields.h"

#include <sstream>

#include <ATen/ATen.h>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

void check_range(const std::string& where, const FieldsShape& s, int64_t t, int64_t c0, int64_t nc,
                 int64_t rows, int64_t cols) {
  if (t < 0 || t >= s.times || c0 < 0 || nc <= 0 || c0 + nc > s.channels || rows <= 0 || rows > s.rows ||
      cols <= 0 || cols > s.cols) {
    std::ostringstream msg;
    msg << where << ": cannot read time " << t << ", channels [" << c0 << ", " << c0 + nc << "), "
        << rows << " rows, " << cols << " columns from an array of shape " << s.shape_string();
    throw InputError(msg.str());
  }
}

}  // namespace

std::string FieldsShape::shape_string() const {
  std::ostringstream s;
  s << "[" << times << ", " << channels << ", " << rows << ", " << cols << "]";
  return s.str();
}

FieldsFile::FieldsFile(const std::string& path, const std::string& dataset)
    : path_(path), dataset_(dataset), file_(std::make_shared<H5File>(H5File::open_read(path))) {
  const H5DatasetInfo info = file_->dataset_info(dataset);
  if (info.shape.size() != 4) {
    throw InputError(path + ":/" + dataset + " has shape " + info.shape_string() +
                     ", expected 4 dimensions [time, channel, row, column]");
  }
  switch (info.dtype) {
    case DType::kFloat16:
    case DType::kFloat32:
    case DType::kFloat64:
      dtype_ = info.dtype;
      break;
    case DType::kOther:
      throw InputError(path + ":/" + dataset + " has element type " + info.type_description +
                       ", expected float16, float32 or float64");
    default:
      dtype_ = DType::kFloat32;  // integer and bool masks are converted on read
  }
  shape_ = FieldsShape{info.shape[0], info.shape[1], info.shape[2], info.shape[3]};
}

at::Tensor FieldsFile::read(int64_t t, int64_t c0, int64_t nc, int64_t rows, int64_t cols) const {
  check_range(path_ + ":/" + dataset_, shape_, t, c0, nc, rows, cols);
  const std::vector<int64_t> start{t, c0, 0, 0};
  const std::vector<int64_t> count{1, nc, rows, cols};
  if (dtype_ == DType::kFloat64) {
    at::Tensor out = at::empty({nc, rows, cols}, at::kDouble);
    file_->read(dataset_, start, count, out.data_ptr<double>());
    return out;
  }
  at::Tensor out = at::empty({nc, rows, cols}, at::kFloat);
  file_->read(dataset_, start, count, out.data_ptr<float>());
  // float16 is read through HDF5's conversion to float32, which is exact, and narrowed back
  // (exact too): X − C then promotes as the reference's float16 array does.
  return dtype_ == DType::kFloat16 ? out.to(at::kHalf) : out;
}

Climatology::Climatology(const std::string& path) : reader_(path) {
  const NpyInfo& info = reader_.info();  // float16/32/64: the reader rejects other dtypes
  const auto& s = info.shape;
  if (s.size() == 4) {
    shape_ = FieldsShape{s[0], s[1], s[2], s[3]};
  } else if (s.size() == 3) {
    shape_ = FieldsShape{1, s[0], s[1], s[2]};
  } else {
    throw InputError(path + ": shape " + info.shape_string() +
                     ", expected a day-of-year climatology [T, C, rows, columns] or one field [C, rows, columns]");
  }
}

at::Tensor Climatology::read(int64_t t, int64_t c0, int64_t nc, int64_t rows, int64_t cols) const {
  const int64_t day = single_field() ? 0 : t;
  check_range(path(), shape_, day, c0, nc, rows, cols);
  const bool f64 = dtype() == DType::kFloat64;
  at::Tensor out = at::empty({nc, rows, cols}, f64 ? at::kDouble : at::kFloat);  // float16: below
  // Rows are contiguous in C order: read `cols` elements per row when the width is cropped, or a
  // whole channel plane at once when it is not.
  const bool full_rows = cols == shape_.cols;
  for (int64_t c = 0; c < nc; ++c) {
    const int64_t plane = ((day * shape_.channels) + c0 + c) * shape_.rows * shape_.cols;
    if (full_rows) {
      if (f64) {
        reader_.read(plane, rows * cols, out[c].data_ptr<double>());
      } else {
        reader_.read(plane, rows * cols, out[c].data_ptr<float>());
      }
      continue;
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t offset = plane + r * shape_.cols;
      if (f64) {
        reader_.read(offset, cols, out[c][r].data_ptr<double>());
      } else {
        reader_.read(offset, cols, out[c][r].data_ptr<float>());
      }
    }
  }
  return dtype() == DType::kFloat16 ? out.to(at::kHalf) : out;  // exact both ways
}

at::Tensor Climatology::read_channels(int64_t t, const std::vector<int64_t>& channels, int64_t rows, int64_t cols) const {
  std::vector<at::Tensor> parts;
  for (std::size_t i = 0; i < channels.size();) {
    std::size_t j = i + 1;
    while (j < channels.size() && channels[j] == channels[j - 1] + 1) ++j;
    parts.push_back(read(t, channels[i], static_cast<int64_t>(j - i), rows, cols));
    i = j;
  }
  return parts.size() == 1 ? parts.front() : at::cat(parts, 0);
}

}  // namespace neuralom
