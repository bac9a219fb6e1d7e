#include "leadrouter/kafka/message.h"

namespace leadrouter::kafka {

std::optional<std::string> ConsumedMessage::HeaderValue(std::string_view name) const {
  for (const Header& header : headers) {
    if (header.name == name) return header.value;
  }
  return std::nullopt;
}

}  // namespace leadrouter::kafka
