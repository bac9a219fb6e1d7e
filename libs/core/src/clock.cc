#include "leadrouter/core/clock.h"

namespace leadrouter::core {

const Clock& SystemClock::Get() {
  static const SystemClock* const instance = new SystemClock();
  return *instance;
}

}  // namespace leadrouter::core
