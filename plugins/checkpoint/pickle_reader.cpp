#include "plugins/checkpoint/pickle_reader.hpp"

#include <fmt/format.h>

#include <cstring>
#include <unordered_map>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

PicklePtr make(auto value) {
  auto p = std::make_shared<PickleValue>();
  p->value = std::move(value);
  return p;
}

class Unpickler {
 public:
  Unpickler(std::span<const uint8_t> bytes, size_t& offset, const PersistentLoader& persistent,
            const std::string& source)
      : bytes_(bytes), pos_(offset), offset_(offset), persistent_(persistent), source_(source) {}

  PicklePtr run() {
    while (true) {
      const size_t at = pos_;
      const uint8_t op = byte();
      switch (op) {
        case 0x80:
          byte();
          break;  // PROTO
        case 0x95:
          skip(8);
          break;     // FRAME
        case '.': {  // STOP
          if (stack_.empty()) fail(at, "STOP with an empty stack");
          offset_ = pos_;
          return stack_.back();
        }
        case '(':
          marks_.push_back(stack_.size());
          break;  // MARK
        case '0':
          pop(at);
          break;  // POP
        case '1':
          popMark(at);
          break;  // POP_MARK
        case '2':
          push(top(at));
          break;  // DUP
        case 'N':
          push(make(PickleValue::None{}));
          break;
        case 0x88:
          push(make(true));
          break;  // NEWTRUE
        case 0x89:
          push(make(false));
          break;  // NEWFALSE
        case 'J':
          push(make(static_cast<int64_t>(little<int32_t>())));
          break;  // BININT
        case 'K':
          push(make(static_cast<int64_t>(byte())));
          break;  // BININT1
        case 'M':
          push(make(static_cast<int64_t>(little<uint16_t>())));
          break;  // BININT2
        case 0x8a:
          push(make(longInteger(byte(), at)));
          break;  // LONG1
        case 0x8b:
          push(make(longInteger(little<uint32_t>(), at)));
          break;  // LONG4
        case 'I':
          push(make(textInteger(line(), at)));
          break;     // INT
        case 'L': {  // LONG
          std::string text = line();
          if (!text.empty() && text.back() == 'L') text.pop_back();
          push(make(textInteger(text, at)));
          break;
        }
        case 'G': {  // BINFLOAT, big-endian
          uint64_t bits = 0;
          for (int n = 0; n < 8; ++n) bits = bits << 8 | byte();
          double v;
          std::memcpy(&v, &bits, sizeof v);
          push(make(v));
          break;
        }
        case 'F':
          push(make(textFloat(line(), at)));
          break;  // FLOAT
        case 'X':
          push(make(text(little<uint32_t>())));
          break;  // BINUNICODE
        case 0x8c:
          push(make(text(byte())));
          break;  // SHORT_BINUNICODE
        case 0x8d:
          push(make(text(little<uint64_t>())));
          break;  // BINUNICODE8
        case 'T':
          push(make(text(little<uint32_t>())));
          break;  // BINSTRING
        case 'U':
          push(make(text(byte())));
          break;  // SHORT_BINSTRING
        case 'B':
          push(make(text(little<uint32_t>())));
          break;  // BINBYTES
        case 'C':
          push(make(text(byte())));
          break;  // SHORT_BINBYTES
        case 0x8e:
          push(make(text(little<uint64_t>())));
          break;     // BINBYTES8
        case 'S': {  // STRING (quoted repr)
          std::string s = line();
          if (s.size() >= 2) s = s.substr(1, s.size() - 2);
          push(make(s));
          break;
        }
        case ')':
          push(make(PickleValue::Sequence{{}, true}));
          break;  // EMPTY_TUPLE
        case 0x85:
          tupleOf(1, at);
          break;  // TUPLE1
        case 0x86:
          tupleOf(2, at);
          break;  // TUPLE2
        case 0x87:
          tupleOf(3, at);
          break;  // TUPLE3
        case 't':
          push(sequenceOf(popMark(at), true, at));
          break;  // TUPLE
        case ']':
          push(make(PickleValue::Sequence{{}, false}));
          break;  // EMPTY_LIST
        case 'l':
          push(sequenceOf(popMark(at), false, at));
          break;     // LIST
        case 'a': {  // APPEND
          PicklePtr item = pop(at);
          const PicklePtr list = top(at);
          auto& items = sequence(list, at).items;
          adopt(*list, item, at);  // before inserting: a refused item must not stay in the list
          items.push_back(item);
          break;
        }
        case 'e': {  // APPENDS
          auto items = popMark(at);
          const PicklePtr target = top(at);
          auto& list = sequence(target, at).items;
          for (const auto& item : items) adopt(*target, item, at);
          list.insert(list.end(), items.begin(), items.end());
          break;
        }
        case '}':
          push(make(PickleValue::Dict{}));
          break;     // EMPTY_DICT
        case 'd': {  // DICT
          auto items = popMark(at);
          PickleValue::Dict dict;
          for (size_t n = 0; n + 1 < items.size(); n += 2)
            dict.emplace_back(items[n], items[n + 1]);
          PicklePtr made = make(std::move(dict));
          for (const auto& item : items) adopt(*made, item, at);
          push(std::move(made));
          break;
        }
        case 's': {  // SETITEM
          PicklePtr value = pop(at);
          PicklePtr key = pop(at);
          setItem(top(at), key, value, at);
          break;
        }
        case 'u': {  // SETITEMS
          auto items = popMark(at);
          PicklePtr target = top(at);
          for (size_t n = 0; n + 1 < items.size(); n += 2)
            setItem(target, items[n], items[n + 1], at);
          break;
        }
        case 0x8f:
          push(make(PickleValue::Opaque{"set"}));
          break;  // EMPTY_SET
        case 0x90:
          popMark(at);
          break;  // ADDITEMS
        case 0x91:
          push(make(PickleValue::Opaque{"frozenset"}));
          popMark(at);
          break;     // FROZENSET
        case 'c': {  // GLOBAL
          std::string module = line();
          std::string name = line();
          push(make(PickleGlobal{module, name}));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          std::string name = string(pop(at), at);
          std::string module = string(pop(at), at);
          push(make(PickleGlobal{module, name}));
          break;
        }
        case 'R': {  // REDUCE
          PicklePtr args = pop(at);
          PicklePtr callable = pop(at);
          push(reduce(callable, args, at));
          break;
        }
        case 0x81: {  // NEWOBJ
          PicklePtr args = pop(at);
          PicklePtr cls = pop(at);
          push(reduce(cls, args, at));
          break;
        }
        case 'b':
          pop(at);
          break;  // BUILD: state is not applied to anything (nothing is executed)
        case 'p':
          memo_[static_cast<uint32_t>(textInteger(line(), at))] = top(at);
          break;  // PUT
        case 'q':
          memo_[byte()] = top(at);
          break;  // BINPUT
        case 'r':
          memo_[little<uint32_t>()] = top(at);
          break;  // LONG_BINPUT
        case 0x94:
          memo_[static_cast<uint32_t>(memo_.size())] = top(at);
          break;  // MEMOIZE
        case 'g':
          push(memo(static_cast<uint32_t>(textInteger(line(), at)), at));
          break;  // GET
        case 'h':
          push(memo(byte(), at));
          break;  // BINGET
        case 'j':
          push(memo(little<uint32_t>(), at));
          break;  // LONG_BINGET
        case 'Q':
          push(persistentLoad(pop(at), at));
          break;  // BINPERSID
        case 'P':
          push(persistentLoad(make(line()), at));
          break;  // PERSID
        default:
          fail(at, fmt::format("unsupported pickle opcode 0x{:02x}", op));
      }
    }
  }

 private:
  [[noreturn]] void fail(size_t at, const std::string& what) const {
    throw FormatError(
        fmt::format("{}: not a readable torch.save file: {} at byte {}", source_, what, at));
  }
  void need(size_t n) const {
    if (pos_ + n > bytes_.size()) fail(pos_, "unexpected end of data (truncated file?)");
  }
  uint8_t byte() {
    need(1);
    return bytes_[pos_++];
  }
  void skip(size_t n) {
    need(n);
    pos_ += n;
  }
  template <typename T>
  T little() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::string text(uint64_t n) {
    if (n > bytes_.size()) fail(pos_, "string longer than the file");
    need(static_cast<size_t>(n));
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  std::string line() {
    const size_t start = pos_;
    while (pos_ < bytes_.size() && bytes_[pos_] != '\n') ++pos_;
    if (pos_ >= bytes_.size()) fail(start, "unterminated line");
    std::string s(reinterpret_cast<const char*>(bytes_.data() + start), pos_ - start);
    ++pos_;
    return s;
  }
  // Little-endian two's complement of n bytes. Wider integers (only torch's legacy magic number)
  // keep their low 64 bits.
  int64_t longInteger(uint64_t n, size_t at) {
    if (n > 16) fail(at, "integer wider than 128 bits");
    need(static_cast<size_t>(n));
    if (n > 8) {
      uint64_t low = 0;
      for (uint64_t b = 0; b < 8; ++b) low |= static_cast<uint64_t>(bytes_[pos_ + b]) << (8 * b);
      pos_ += static_cast<size_t>(n);
      return static_cast<int64_t>(low);
    }
    uint64_t v = 0;
    for (uint64_t b = 0; b < n; ++b) v |= static_cast<uint64_t>(bytes_[pos_ + b]) << (8 * b);
    if (n > 0 && n < 8 && (bytes_[pos_ + n - 1] & 0x80)) v |= ~uint64_t{0} << (8 * n);  // sign
    pos_ += static_cast<size_t>(n);
    return static_cast<int64_t>(v);
  }
  int64_t textInteger(const std::string& s, size_t at) {
    if (s == "00") return 0;  // False
    if (s == "01") return 1;  // True
    try {
      return std::stoll(s);
    } catch (const std::exception&) {
      fail(at, "bad integer '" + s + "'");
    }
  }
  double textFloat(const std::string& s, size_t at) {
    try {
      return std::stod(s);
    } catch (const std::exception&) {
      fail(at, "bad number '" + s + "'");
    }
  }
  void push(PicklePtr v) { stack_.push_back(std::move(v)); }
  PicklePtr pop(size_t at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
      fail(at, "stack underflow");
    PicklePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PicklePtr top(size_t at) const {
    if (stack_.empty()) fail(at, "stack underflow");
    return stack_.back();
  }
  PickleValue::List popMark(size_t at) {
    if (marks_.empty()) fail(at, "no MARK");
    const size_t mark = marks_.back();
    marks_.pop_back();
    PickleValue::List items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  void tupleOf(size_t n, size_t at) {
    PickleValue::List items(n);
    for (size_t k = n; k-- > 0;) items[k] = pop(at);
    push(sequenceOf(std::move(items), true, at));
  }
  PicklePtr memo(uint32_t key, size_t at) const {
    const auto it = memo_.find(key);
    if (it == memo_.end()) fail(at, fmt::format("memo entry {} missing", key));
    return it->second;
  }
  PickleValue::Sequence& sequence(const PicklePtr& p, size_t at) const {
    auto* s = std::get_if<PickleValue::Sequence>(&p->value);
    if (!s) fail(at, "APPEND to something that is not a list");
    changing(*p, at);
    return *s;
  }
  // A value placed in a container: nesting is bounded, and a container that is inside another
  // never changes again, so every depth stays exact and no value can contain itself.
  void adopt(PickleValue& parent, const PicklePtr& child, size_t at) const {
    if (child.get() == &parent)
      fail(at, "a container that contains itself (a self-referencing pickle)");
    if (child->depth >= kPickleDepthLimit)
      fail(at, fmt::format("values nested deeper than {} levels", kPickleDepthLimit));
    parent.depth = std::max(parent.depth, child->depth + 1);
    child->contained = true;
  }
  void changing(const PickleValue& container, size_t at) const {
    if (container.contained)
      fail(at,
           "a container changes after it was placed in another one (a self-referencing pickle)");
  }
  PicklePtr sequenceOf(PickleValue::List items, bool tuple, size_t at) const {
    PicklePtr made = make(PickleValue::Sequence{items, tuple});
    for (const auto& item : items) adopt(*made, item, at);
    return made;
  }
  std::string string(const PicklePtr& p, size_t at) const {
    const auto* s = std::get_if<std::string>(&p->value);
    if (!s) fail(at, "expected a string");
    return *s;
  }
  void setItem(const PicklePtr& target, PicklePtr key, PicklePtr value, size_t at) {
    if (auto* dict = std::get_if<PickleValue::Dict>(&target->value)) {
      changing(*target, at);
      adopt(*target, key, at);
      adopt(*target, value, at);
      for (auto& [k, v] : *dict)
        if (describePickleValue(*k) == describePickleValue(*key)) {
          v = value;
          return;
        }
      dict->emplace_back(std::move(key), std::move(value));
      return;
    }
    if (std::holds_alternative<PickleValue::Opaque>(target->value)) return;
    fail(at, "SETITEM on something that is not a dictionary");
  }
  static std::vector<int64_t> integers(const PicklePtr& p) {
    std::vector<int64_t> out;
    if (const auto* s = std::get_if<PickleValue::Sequence>(&p->value))
      for (const auto& item : s->items)
        if (const auto* v = std::get_if<int64_t>(&item->value)) out.push_back(*v);
    return out;
  }
  PicklePtr reduce(const PicklePtr& callable, const PicklePtr& args, size_t at) {
    const auto* global = std::get_if<PickleGlobal>(&callable->value);
    if (!global) return make(PickleValue::Opaque{"call of " + describePickleValue(*callable)});
    const std::string name = global->module + "." + global->name;
    const auto* arguments = std::get_if<PickleValue::Sequence>(&args->value);
    const auto arg = [&](size_t n) -> PicklePtr {
      if (!arguments || n >= arguments->items.size()) fail(at, name + ": missing argument");
      return arguments->items[n];
    };
    if (name == "collections.OrderedDict" || name == "builtins.dict") {
      PickleValue::Dict dict;
      if (arguments && !arguments->items.empty())
        if (const auto* pairs = std::get_if<PickleValue::Sequence>(&arguments->items[0]->value))
          for (const auto& pair : pairs->items)
            if (const auto* kv = std::get_if<PickleValue::Sequence>(&pair->value);
                kv && kv->items.size() == 2)
              dict.emplace_back(kv->items[0], kv->items[1]);
      PicklePtr made = make(std::move(dict));
      for (const auto& [key, value] : std::get<PickleValue::Dict>(made->value)) {
        adopt(*made, key, at);
        adopt(*made, value, at);
      }
      return made;
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      const auto* storage = std::get_if<StorageRef>(&arg(0)->value);
      const auto* offset = std::get_if<int64_t>(&arg(1)->value);
      if (!storage || !offset) fail(at, name + ": unexpected arguments");
      return make(TensorRef{*storage, *offset, integers(arg(2)), integers(arg(3))});
    }
    if (name == "torch._utils._rebuild_parameter") return arg(0);
    return make(PickleValue::Opaque{name});
  }
  PicklePtr persistentLoad(const PicklePtr& id, size_t at) {
    if (!persistent_) fail(at, "persistent id without a loader");
    return persistent_(id);
  }

  std::span<const uint8_t> bytes_;
  size_t pos_;
  size_t& offset_;
  const PersistentLoader& persistent_;
  const std::string& source_;
  std::vector<PicklePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, PicklePtr> memo_;
};

}  // namespace

PicklePtr readPickle(std::span<const uint8_t> bytes, size_t& offset,
                     const PersistentLoader& persistent, const std::string& source) {
  return Unpickler(bytes, offset, persistent, source).run();
}

std::string describePickleValue(const PickleValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, PickleValue::None>)
          return "None";
        else if constexpr (std::is_same_v<V, bool>)
          return v ? "True" : "False";
        else if constexpr (std::is_same_v<V, int64_t>)
          return std::to_string(v);
        else if constexpr (std::is_same_v<V, double>)
          return fmt::format("{}", v);
        else if constexpr (std::is_same_v<V, std::string>)
          return v;
        else if constexpr (std::is_same_v<V, PickleValue::Sequence>)
          return v.tuple ? "tuple" : "list";
        else if constexpr (std::is_same_v<V, PickleValue::Dict>)
          return "dict";
        else if constexpr (std::is_same_v<V, PickleGlobal>)
          return v.module + "." + v.name;
        else if constexpr (std::is_same_v<V, StorageRef>)
          return "storage " + v.key;
        else if constexpr (std::is_same_v<V, TensorRef>)
          return "tensor";
        else
          return "object " + v.what;
      },
      value.value);
}

}  // namespace gatescope
