#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace gatescope {

// A restricted unpickler for the pickles torch.save writes: dictionaries (dict, OrderedDict),
// lists, tuples, numbers, strings, and tensors rebuilt from storages. It executes nothing: a
// GLOBAL it does not know becomes an opaque value (which is an error only where a tensor or a
// container is needed), and no object's code is ever run.
struct PickleValue;
using PicklePtr = std::shared_ptr<PickleValue>;

struct StorageRef {
  std::string key;       // the storage's name in the archive
  std::string dtype;     // "float32", "int64", ...
  std::string location;  // "cpu", "cuda:0"
  int64_t numel = 0;
};

struct TensorRef {
  StorageRef storage;
  int64_t offset = 0;  // in elements
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;
};

struct PickleGlobal {
  std::string module, name;
};

struct PickleValue {
  struct None {};
  struct Opaque {
    std::string what;
  };
  using List = std::vector<PicklePtr>;
  using Dict = std::vector<std::pair<PicklePtr, PicklePtr>>;  // insertion order
  struct Sequence {
    List items;
    bool tuple = false;
  };
  std::variant<None, bool, int64_t, double, std::string, Sequence, Dict, PickleGlobal, StorageRef,
               TensorRef, Opaque>
      value;
  int depth = 1;           // levels of containers below and including this value
  bool contained = false;  // placed in a container: it may not change any more
};

// Values nested deeper are refused while reading: everything that walks or frees a value
// recurses, and a pickle nested 300,000 deep would overflow the stack.
inline constexpr int kPickleDepthLimit = 200;

// Called for BINPERSID / PERSID with the persistent id; torch.save's ids describe storages.
using PersistentLoader = std::function<PicklePtr(const PicklePtr& id)>;

// Parses one pickle from `bytes` starting at `offset`; on return `offset` is just past its STOP.
// Throws FormatError naming `source` on malformed or unsupported data.
[[nodiscard]] PicklePtr readPickle(std::span<const uint8_t> bytes, size_t& offset,
                                   const PersistentLoader& persistent, const std::string& source);

[[nodiscard]] std::string describePickleValue(const PickleValue& value);

}  // namespace gatescope
