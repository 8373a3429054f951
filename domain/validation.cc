#include "domain/validation.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace liaison {

std::optional<size_t> Utf8Length(absl::string_view s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t extra;
    uint32_t code_point;
    if (c < 0x80) {
      extra = 0;
      code_point = c;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code_point = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code_point = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code_point = c & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + extra >= s.size()) return std::nullopt;
    for (size_t k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return std::nullopt;
      code_point = (code_point << 6) | (cc & 0x3f);
    }
    // Reject overlong forms, surrogates and values beyond Unicode.
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[extra] || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return std::nullopt;
    }
    i += extra + 1;
    ++count;
  }
  return count;
}

namespace {

bool HasControlCharacter(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

absl::Status CheckLine(absl::string_view field, absl::string_view value,
                       size_t max_chars, bool required) {
  if (value.empty()) {
    return required
               ? absl::InvalidArgumentError(absl::StrCat(field, " is required"))
               : absl::OkStatus();
  }
  const std::optional<size_t> length = Utf8Length(value);
  if (!length.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is not valid UTF-8"));
  }
  if (*length > max_chars) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is ", *length, " characters long; the limit is ", max_chars));
  }
  if (HasControlCharacter(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " may not contain control characters"));
  }
  if (absl::StripAsciiWhitespace(value).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is blank"));
  }
  return absl::OkStatus();
}

std::string TruncateUtf8(absl::string_view s, size_t max_chars) {
  size_t end = 0;
  for (size_t chars = 0; chars < max_chars && end < s.size(); ++chars) {
    ++end;
    while (end < s.size() &&
           (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) {
      ++end;
    }
  }
  return std::string(s.substr(0, end));
}

}  // namespace liaison
