#include "plugins/checkpoint/checkpoint_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <numeric>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "plugins/checkpoint/pickle_reader.hpp"
#include "plugins/checkpoint/zip_archive.hpp"

namespace gatescope {

namespace {

const std::map<std::string, std::pair<std::string, int64_t>>& storageTypes() {
  static const std::map<std::string, std::pair<std::string, int64_t>> types = {
      {"FloatStorage", {"float32", 4}}, {"DoubleStorage", {"float64", 8}},
      {"HalfStorage", {"float16", 2}},  {"BFloat16Storage", {"bfloat16", 2}},
      {"LongStorage", {"int64", 8}},    {"IntStorage", {"int32", 4}},
      {"ShortStorage", {"int16", 2}},   {"CharStorage", {"int8", 1}},
      {"ByteStorage", {"uint8", 1}},    {"BoolStorage", {"bool", 1}}};
  return types;
}

// torch.save's persistent id: ('storage', <torch.XStorage>, key, location, numel[, view]).
PersistentLoader storageLoader(const std::string& source) {
  return [source](const PicklePtr& id) -> PicklePtr {
    const auto* tuple = std::get_if<PickleValue::Sequence>(&id->value);
    const auto fail = [&] {
      throw FormatError(source + ": not a readable torch.save file: unexpected persistent id");
    };
    if (!tuple || tuple->items.size() < 5) fail();
    const auto* kind = std::get_if<std::string>(&tuple->items[0]->value);
    const auto* type = std::get_if<PickleGlobal>(&tuple->items[1]->value);
    const auto* key = std::get_if<std::string>(&tuple->items[2]->value);
    const auto* location = std::get_if<std::string>(&tuple->items[3]->value);
    const auto* numel = std::get_if<int64_t>(&tuple->items[4]->value);
    if (!kind || *kind != "storage" || !type || !key || !location || !numel) fail();
    const auto found = storageTypes().find(type->name);
    if (found == storageTypes().end())
      throw FormatError(fmt::format("{}: unsupported tensor storage type {}.{}", source,
                                    type->module, type->name));
    auto value = std::make_shared<PickleValue>();
    value->value = StorageRef{*key, found->second.first, *location, *numel};
    return value;
  };
}

// Copies the elements a (possibly strided) tensor view selects into contiguous C order.
std::vector<uint8_t> gather(const TensorRef& t, std::span<const uint8_t> storage, int64_t element,
                            const std::string& source, const std::string& name) {
  if (t.stride.size() != t.shape.size())
    throw FormatError(fmt::format("{}: tensor '{}' has {} sizes but {} strides", source, name,
                                  t.shape.size(), t.stride.size()));
  // Validate before allocating: a corrupt shape must not become a huge allocation.
  int64_t numel = 1, last = t.offset;
  bool bad = t.offset < 0;
  for (size_t d = 0; d < t.shape.size() && !bad; ++d) {
    int64_t reach = 0;
    bad = t.shape[d] < 0 || t.stride[d] < 0 || __builtin_mul_overflow(numel, t.shape[d], &numel) ||
          (t.shape[d] > 0 && (__builtin_mul_overflow(t.shape[d] - 1, t.stride[d], &reach) ||
                              __builtin_add_overflow(last, reach, &last)));
  }
  int64_t bytes = 0;
  if (bad || __builtin_mul_overflow(numel, element, &bytes) || bytes > (int64_t{1} << 36))
    throw FormatError(fmt::format("{}: tensor '{}' has an invalid shape or layout", source, name));
  if (numel == 0) return {};
  // Within the storage before anything is allocated: the storage bounds what the tensor may hold.
  int64_t end = 0;
  if (__builtin_add_overflow(last, 1, &end) || __builtin_mul_overflow(end, element, &end) ||
      end > static_cast<int64_t>(storage.size()))
    throw FormatError(
        fmt::format("{}: tensor '{}' reaches past its storage ({} bytes): truncated file?", source,
                    name, storage.size()));
  std::vector<uint8_t> out(static_cast<size_t>(bytes));
  std::vector<int64_t> index(t.shape.size(), 0);
  for (int64_t n = 0; n < numel; ++n) {
    int64_t at = t.offset;
    for (size_t d = 0; d < index.size(); ++d) at += index[d] * t.stride[d];
    std::memcpy(out.data() + n * element, storage.data() + at * element,
                static_cast<size_t>(element));
    for (size_t d = index.size(); d-- > 0;) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

const PickleValue::Dict* asDict(const PicklePtr& p) {
  return std::get_if<PickleValue::Dict>(&p->value);
}

bool holdsTensors(const PickleValue::Dict& dict) {
  for (const auto& [key, value] : dict)
    if (std::holds_alternative<TensorRef>(value->value)) return true;
  return false;
}

// The dictionary of tensors: at the top, or under a conventional key.
const PickleValue::Dict& findStateDict(const PicklePtr& root, std::string& nested_under,
                                       const std::string& source) {
  const auto* top = asDict(root);
  if (!top)
    throw FormatError(source + ": the checkpoint holds a " + describePickleValue(*root) +
                      ", not a dictionary of tensors");
  if (holdsTensors(*top)) return *top;
  for (const char* key : {"state_dict", "model_state_dict", "model", "net", "network"})
    for (const auto& [k, v] : *top)
      if (const auto* name = std::get_if<std::string>(&k->value); name && *name == key)
        if (const auto* inner = asDict(v); inner && holdsTensors(*inner)) {
          nested_under = key;
          return *inner;
        }
  std::string keys;
  for (const auto& [k, v] : *top) keys += (keys.empty() ? "" : ", ") + describePickleValue(*k);
  throw FormatError(source +
                    ": no tensors at the top level or under state_dict/model (keys: " + keys + ")");
}

Checkpoint collect(const PicklePtr& root,
                   const std::map<std::string, std::span<const uint8_t>>& storages,
                   const std::string& source) {
  Checkpoint checkpoint;
  const PickleValue::Dict& dict = findStateDict(root, checkpoint.nested_under, source);
  for (const auto& [k, v] : dict) {
    const auto* name = std::get_if<std::string>(&k->value);
    const auto* tensor = std::get_if<TensorRef>(&v->value);
    if (!name || !tensor) continue;  // e.g. a stray non-tensor entry
    const auto storage = storages.find(tensor->storage.key);
    if (storage == storages.end())
      throw FormatError(fmt::format("{}: tensor '{}' refers to missing storage {}", source, *name,
                                    tensor->storage.key));
    const int64_t element = dtypeSize(tensor->storage.dtype);
    checkpoint.tensors.push_back({*name, tensor->storage.dtype, tensor->shape,
                                  gather(*tensor, storage->second, element, source, *name)});
  }
  const bool all_prefixed =
      !checkpoint.tensors.empty() &&
      std::all_of(checkpoint.tensors.begin(), checkpoint.tensors.end(),
                  [](const CheckpointTensor& t) { return t.name.starts_with("module."); });
  if (all_prefixed) {
    for (auto& t : checkpoint.tensors) t.name.erase(0, 7);
    checkpoint.stripped_module_prefix = true;
  }
  return checkpoint;
}

Checkpoint readZip(const std::vector<uint8_t>& bytes, const std::string& source) {
  const ZipArchive zip(bytes, source);
  std::string prefix;
  for (const auto& name : zip.names()) {
    if (name.ends_with("/constants.pkl") || name.ends_with("/code/") ||
        name.find("/code/") != std::string::npos)
      throw FormatError(source +
                        ": this is a TorchScript model, not a state dict; pass it as --model");
    if (name.ends_with("/data.pkl")) prefix = name.substr(0, name.size() - 8);
  }
  if (prefix.empty())
    throw FormatError(source + ": zip archive without data.pkl: not a torch.save file");
  std::map<std::string, std::span<const uint8_t>> storages;
  const std::string data_folder = prefix + "data/";
  for (const auto& name : zip.names())
    if (name.starts_with(data_folder)) storages[name.substr(data_folder.size())] = zip.entry(name);
  const auto pickle = zip.entry(prefix + "data.pkl");
  size_t offset = 0;
  const PicklePtr root = readPickle(pickle, offset, storageLoader(source), source);
  Checkpoint checkpoint = collect(root, storages, source);
  checkpoint.format = "zip";
  return checkpoint;
}

Checkpoint readLegacy(const std::vector<uint8_t>& bytes, const std::string& source) {
  size_t offset = 0;
  const auto magic = readPickle(bytes, offset, {}, source);
  const auto* m = std::get_if<int64_t>(&magic->value);
  // The legacy magic number 0x1950a86a20f9469cfc6c does not fit 64 bits: the reader keeps its
  // low 64 bits.
  if (!m || static_cast<uint64_t>(*m) != 0xa86a20f9469cfc6cull)
    throw FormatError(source + ": not a torch.save file (no PyTorch magic number)");
  (void)readPickle(bytes, offset, {}, source);  // protocol version
  (void)readPickle(bytes, offset, {}, source);  // sys_info
  std::map<std::string, StorageRef> declared;
  const PersistentLoader base = storageLoader(source);
  const PicklePtr root = readPickle(
      bytes, offset,
      [&](const PicklePtr& id) {
        PicklePtr storage = base(id);
        const auto& ref = std::get<StorageRef>(storage->value);
        declared[ref.key] = ref;
        return storage;
      },
      source);
  const PicklePtr keys = readPickle(bytes, offset, {}, source);
  const auto* list = std::get_if<PickleValue::Sequence>(&keys->value);
  if (!list) throw FormatError(source + ": not a readable torch.save file: no storage key list");
  std::map<std::string, std::span<const uint8_t>> storages;
  for (const auto& item : list->items) {
    const auto* key = std::get_if<std::string>(&item->value);
    if (!key) throw FormatError(source + ": not a readable torch.save file: bad storage key");
    int64_t numel = 0;
    if (offset + 8 > bytes.size())
      throw FormatError(source + ": truncated: storage " + *key + " is missing");
    std::memcpy(&numel, bytes.data() + offset, 8);
    offset += 8;
    const auto found = declared.find(*key);
    const int64_t element = found == declared.end() ? 1 : dtypeSize(found->second.dtype);
    uint64_t size = 0;
    if (numel < 0 ||
        __builtin_mul_overflow(static_cast<uint64_t>(numel), static_cast<uint64_t>(element),
                               &size) ||
        size > bytes.size() - offset)
      throw FormatError(
          fmt::format("{}: truncated: storage {} declares {} elements beyond the end of the file",
                      source, *key, numel));
    storages[*key] = std::span<const uint8_t>(bytes.data() + offset, size);
    offset += size;
  }
  Checkpoint checkpoint = collect(root, storages, source);
  checkpoint.format = "legacy";
  return checkpoint;
}

// A protocol-2 pickle of the few kinds of value a legacy torch.save file needs.
class PickleWriter {
 public:
  void protocol() { bytes_.insert(bytes_.end(), {0x80, 0x02}); }
  void stop() { bytes_.push_back('.'); }
  void mark() { bytes_.push_back('('); }
  void op(char c) { bytes_.push_back(static_cast<uint8_t>(c)); }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      bytes_.push_back('K');
      bytes_.push_back(static_cast<uint8_t>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      bytes_.push_back('J');
      append(static_cast<int32_t>(v));
    } else {
      bytes_.insert(bytes_.end(), {0x8a, 8});
      append(v);
    }
  }
  void text(const std::string& s) {
    bytes_.push_back('X');
    append(static_cast<uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void global(const std::string& module, const std::string& name) {
    bytes_.push_back('c');
    bytes_.insert(bytes_.end(), module.begin(), module.end());
    bytes_.push_back('\n');
    bytes_.insert(bytes_.end(), name.begin(), name.end());
    bytes_.push_back('\n');
  }
  void tuple(const std::vector<int64_t>& values) {
    mark();
    for (int64_t v : values) integer(v);
    op('t');
  }
  template <typename T>
  void append(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof v);
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

std::string storageTypeOf(const std::string& dtype) {
  for (const auto& [type, info] : storageTypes())
    if (info.first == dtype) return type;
  throw Error("unsupported tensor dtype " + dtype);
}

std::vector<int64_t> contiguousStrides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> stride(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) stride[d - 1] = stride[d] * shape[d];
  return stride;
}

}  // namespace

void writeCheckpoint(const std::filesystem::path& path,
                     const std::vector<CheckpointTensor>& tensors) {
  PickleWriter p;
  // Magic number 0x1950a86a20f9469cfc6c, protocol version 1001, sys_info.
  p.protocol();
  p.bytes().insert(p.bytes().end(),
                   {0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19});
  p.stop();
  p.protocol();
  p.integer(1001);
  p.stop();
  p.protocol();
  p.op('}');
  p.mark();
  p.text("protocol_version");
  p.integer(1001);
  p.text("little_endian");
  p.op('\x88');
  p.text("type_sizes");
  p.op('}');
  p.mark();
  p.text("short");
  p.integer(2);
  p.text("int");
  p.integer(4);
  p.text("long");
  p.integer(4);
  p.op('u');
  p.op('u');
  p.stop();
  // The state dict: OrderedDict of _rebuild_tensor_v2(storage, 0, shape, stride, False, {}).
  p.protocol();
  p.global("collections", "OrderedDict");
  p.op(')');
  p.op('R');
  p.mark();
  for (size_t n = 0; n < tensors.size(); ++n) {
    const CheckpointTensor& t = tensors[n];
    if (static_cast<int64_t>(t.data.size()) != t.numel() * dtypeSize(t.dtype))
      throw Error(fmt::format("tensor '{}' holds {} bytes, its shape needs {}", t.name,
                              t.data.size(), t.numel() * dtypeSize(t.dtype)));
    p.text(t.name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.mark();
    p.mark();
    p.text("storage");
    p.global("torch", storageTypeOf(t.dtype));
    p.text(std::to_string(n));
    p.text("cpu");
    p.integer(t.numel());
    p.op('N');
    p.op('t');
    p.op('Q');
    p.integer(0);
    p.tuple(t.shape);
    p.tuple(contiguousStrides(t.shape));
    p.op('\x89');
    p.global("collections", "OrderedDict");
    p.op(')');
    p.op('R');
    p.op('t');
    p.op('R');
  }
  p.op('u');
  p.stop();
  p.protocol();
  p.op(']');
  p.mark();
  for (size_t n = 0; n < tensors.size(); ++n) p.text(std::to_string(n));
  p.op('e');
  p.stop();
  writeFileAtomically(path, [&](const ByteSink& sink) {
    sink(p.bytes());
    for (const CheckpointTensor& t : tensors) {
      const int64_t numel = t.numel();
      sink(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&numel), sizeof numel));
      sink(t.data);
    }
  });
}

int64_t CheckpointTensor::numel() const {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

int64_t dtypeSize(const std::string& dtype) {
  for (const auto& [type, info] : storageTypes())
    if (info.first == dtype) return info.second;
  throw FormatError("unsupported tensor dtype " + dtype);
}

Checkpoint readCheckpoint(const std::filesystem::path& path) {
  const std::string source = path.string();
  const std::vector<uint8_t> bytes = readWholeFile(path);
  if (bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4)
    return readZip(bytes, source);
  if (bytes.size() >= 2 && bytes[0] == 0x80 && bytes[1] == 0x02) return readLegacy(bytes, source);
  if (bytes.size() >= 262 && std::memcmp(bytes.data() + 257, "ustar", 5) == 0)
    throw FormatError(source + ": tar-format torch.save file (PyTorch < 0.1.10): not supported");
  throw FormatError(source +
                    ": not a torch.save checkpoint (neither the zip nor the legacy format)");
}

}  // namespace gatescope
