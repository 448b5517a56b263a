// SHA-256 against the FIPS 180-2 example vectors.
#include "analysis/core/sha256.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace gatescope;

namespace {
std::string hashOf(const std::string& text) {
  return sha256Hex({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}
}  // namespace

TEST_CASE("SHA-256 gives the FIPS 180-2 digests", "[volume]") {
  CHECK(hashOf("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hashOf("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hashOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  CHECK(hashOf(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // The same bytes fed in uneven pieces.
  Sha256 pieces;
  for (size_t at = 0, step = 1; at < million.size(); at += step, step = step * 3 % 997 + 1)
    pieces.update({reinterpret_cast<const uint8_t*>(million.data()) + at,
                   std::min(step, million.size() - at)});
  CHECK(pieces.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
