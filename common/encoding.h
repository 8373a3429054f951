// Deterministic, length-prefixed binary encoding used for hashed records
// (audit leaves, message content digests). Integers are big-endian; strings
// are a 4-byte big-endian length followed by the bytes. See
// docs/audit-log-format.md.
#ifndef LIAISON_COMMON_ENCODING_H_
#define LIAISON_COMMON_ENCODING_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace liaison {

class RecordWriter {
 public:
  RecordWriter& U8(uint8_t value);
  RecordWriter& U32(uint32_t value);
  RecordWriter& I64(int64_t value);
  RecordWriter& Bytes(absl::string_view value);
  RecordWriter& Bool(bool value) { return U8(value ? 1 : 0); }

  const std::string& data() const { return data_; }
  std::string Release() { return std::move(data_); }

 private:
  std::string data_;
};

}  // namespace liaison

#endif  // LIAISON_COMMON_ENCODING_H_
