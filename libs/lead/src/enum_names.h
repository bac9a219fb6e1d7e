#pragma once

// Internal to leadrouter_lead (and its tests): how senders may spell enum values of LeadEvent.

#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace leadrouter::lead::internal {

// The value of `type` that `text` names, or nullptr. Taken, in this order: the full name
// (BUYING_PRIORITY_VALUE), the full name in any case, the name without the enum's prefix in any
// case (VALUE, value, Value), and a known number as plain decimal digits ("2": no sign, no
// leading zero, no blanks). The prefix is what the enum's zero value has before UNSPECIFIED
// (BUYING_PRIORITY_UNSPECIFIED → BUYING_PRIORITY_); an enum without one has no short names.
// Both decode paths use this one function, so they cannot disagree. Pure and thread-safe.
const google::protobuf::EnumValueDescriptor* ResolveEnumName(
    const google::protobuf::EnumDescriptor& type, std::string_view text);

// The value of `type` numbered `number`, or nullptr (unknown numbers of open enums are refused
// at decode, where protobuf would keep them).
const google::protobuf::EnumValueDescriptor* ResolveEnumNumber(
    const google::protobuf::EnumDescriptor& type, int64_t number);

// What a rejection lists as accepted, e.g. for BuyingPriority
//   PRICE, VALUE (or BUYING_PRIORITY_PRICE, ..., in any case, or the number)
// The zero value (..._UNSPECIFIED) is accepted but not listed: it means "not given".
std::string AcceptedEnumValues(const google::protobuf::EnumDescriptor& type);

}  // namespace leadrouter::lead::internal
