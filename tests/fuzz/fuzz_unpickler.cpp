// The unpickler alone (protocols 0-5 opcodes it knows; nesting and self-reference bounded).
#include "analysis/core/error.hpp"
#include "plugins/checkpoint/pickle_reader.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    size_t offset = 0;
    const auto persistent = [](const gatescope::PicklePtr& id) {
      auto value = std::make_shared<gatescope::PickleValue>();
      value->value =
          gatescope::PickleValue::Opaque{"storage " + gatescope::describePickleValue(*id)};
      return value;
    };
    const gatescope::PicklePtr value =
        gatescope::readPickle(std::span<const uint8_t>(data, size), offset, persistent, "fuzz.pkl");
    (void)gatescope::describePickleValue(*value);
  } catch (const gatescope::Error&) {
  }
  return 0;
}
