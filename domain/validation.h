// Checks of client-supplied fields shared by the services. Every failure is
// INVALID_ARGUMENT with a message naming the field and the rule.
#ifndef LIAISON_DOMAIN_VALIDATION_H_
#define LIAISON_DOMAIN_VALIDATION_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace liaison {

// An enum field as the client sent it: `value` is set when the client named
// a known value; otherwise `raw` is the number it sent (0: none).
template <typename E>
struct Choice {
  Choice() = default;
  // A known value. Implicit, so that code can write `kind = kRequest`.
  Choice(E e) : value(e) {}  // NOLINT(google-explicit-constructor)
  Choice(std::optional<E> known, int number) : value(known), raw(number) {}

  std::optional<E> value;
  int raw = 0;
};

// An enum field: required, and one of the values listed in `known`.
template <typename E>
absl::StatusOr<E> Require(const Choice<E>& choice, absl::string_view field,
                          absl::string_view known) {
  if (choice.value.has_value()) return *choice.value;
  if (choice.raw == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is required (", known, ")"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      field, " ", choice.raw, " is not a known value (", known, ")"));
}

// Number of code points in `s`, or nullopt if `s` is not valid UTF-8.
std::optional<size_t> Utf8Length(absl::string_view s);

// A short single-line text field: at most `max_chars` characters of valid
// UTF-8, no control characters, not blank; empty only if not `required`.
absl::Status CheckLine(absl::string_view field, absl::string_view value,
                       size_t max_chars, bool required);

// `s` cut to at most `max_chars` characters, never inside a UTF-8 sequence.
std::string TruncateUtf8(absl::string_view s, size_t max_chars);

}  // namespace liaison

#endif  // LIAISON_DOMAIN_VALIDATION_H_
