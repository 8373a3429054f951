#include "common/encoding.h"

namespace liaison {

RecordWriter& RecordWriter::U8(uint8_t value) {
  data_.push_back(static_cast<char>(value));
  return *this;
}

RecordWriter& RecordWriter::U32(uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    data_.push_back(static_cast<char>((value >> shift) & 0xff));
  }
  return *this;
}

RecordWriter& RecordWriter::I64(int64_t value) {
  const uint64_t bits = static_cast<uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8) {
    data_.push_back(static_cast<char>((bits >> shift) & 0xff));
  }
  return *this;
}

RecordWriter& RecordWriter::Bytes(absl::string_view value) {
  U32(static_cast<uint32_t>(value.size()));
  data_.append(value.data(), value.size());
  return *this;
}

}  // namespace liaison
