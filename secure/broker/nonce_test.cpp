// Broker challenge nonces (nonce.h): stateless issue, MAC and expiry checks, bounded replay set.
#include "secure/broker/nonce.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace sealsum;
using namespace sealsum::secure::keyrelease;

TEST_CASE("nonce store: challenges are stateless, the replay set is bounded and fails closed") {
  int64_t now = 0;
  NonceStore s(10, 2, [&now] { return now; });
  std::vector<std::string> issued;
  for (int i = 0; i < 10000; ++i) {  // an attacker looping on /v1/challenge holds no memory
    auto n = s.issue();
    REQUIRE(n.ok());
    issued.push_back(*n);
  }
  CHECK(s.consumed() == 0);
  CHECK(s.consume(issued[0]).is_ok());
  CHECK(s.consume(issued[0]).code() == Code::kPermissionDenied);
  CHECK(s.consume(issued[1]).is_ok());
  CHECK(s.consume(issued[2]).code() == Code::kResourceExhausted);  // full: no replay possible
  now = 11;  // the consumed ones expired (and so did the rest)
  CHECK(s.consume(issued[2]).code() == Code::kPermissionDenied);
  auto fresh = s.issue();
  REQUIRE(fresh.ok());
  CHECK(s.consume(*fresh).is_ok());
  CHECK(s.consumed() == 1);
  CHECK(s.consume("").code() == Code::kPermissionDenied);
  CHECK(s.consume(std::string(5000, 'A')).code() == Code::kPermissionDenied);
}

TEST_CASE("nonce store: expiry bounds, every altered byte, other encodings of one nonce", "[nonce]") {
  int64_t now = 1000;
  NonceStore s(120, 64, [&now] { return now; });
  auto n = s.issue();
  REQUIRE(n.ok());
  CHECK(n->size() == 54);
  // Any one changed character (expiry, random part or MAC) is unknown. The last character carries
  // only 2 bits (54 characters for 40 bytes): change one of those.
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < n->size(); ++i) {
    std::string bad = *n;
    const size_t v = kAlphabet.find(bad[i]);
    REQUIRE(v != std::string::npos);
    bad[i] = kAlphabet[i + 1 == n->size() ? (v + 16) % 64 : (v + 1) % 64];
    INFO(i);
    CHECK(s.consume(bad).code() == Code::kPermissionDenied);
  }
  CHECK(s.consume(n->substr(0, 53)).code() == Code::kPermissionDenied);
  CHECK(s.consume(*n + "AA").code() == Code::kPermissionDenied);
  // Valid up to and including its expiry second, not after.
  now += 120;
  auto at_expiry = s.issue();
  REQUIRE(at_expiry.ok());
  CHECK(s.consume(*n).is_ok());
  // The same bytes in padded standard base64 are the same nonce (replay refused).
  auto again = s.issue();
  REQUIRE(again.ok());
  CHECK(s.consume(*again).is_ok());
  std::string padded = *again;
  for (char& c : padded) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  padded += "==";
  CHECK(s.consume(padded).code() == Code::kPermissionDenied);
  now += 1;
  auto late = s.consume(*at_expiry);
  CHECK(late.is_ok());  // issued at the later time: still within its lifetime
  now += 200;
  auto stale = s.issue();
  REQUIRE(stale.ok());
  now += 121;
  CHECK(s.consume(*stale).message().find("expired") != std::string::npos);
}
