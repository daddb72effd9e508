// Wipe-on-free (wipe_on_free.h) and SecretAllocator (secret_allocator.h). The wipe is checked in a
// forked child (it is process-wide and cannot be turned off), by reading a released block's bytes
// past glibc's free-list header, for operator delete and for OpenSSL's free: before enabling, the
// marker is still there (the check can fail).
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "common/proc_status.h"
#include "secure/secret_allocator.h"
#include "secure/wipe_on_free.h"

namespace {

// Copies `marker` into a new[] block of 256 bytes, releases it, and tells whether bytes 32.. of
// the released block still hold the marker's tail (glibc keeps the freed chunk in its tcache and
// writes only its first 16 bytes; AddressSanitizer's quarantine keeps it too). Reading a released
// block is what this test is about, so AddressSanitizer must not report that read.
__attribute__((no_sanitize("address"))) bool marker_survives_delete(const char* marker) {
  char* p = new char[256];
  const size_t n = std::strlen(marker);
  std::memset(p, 'x', 256);
  std::memcpy(p + 32, marker, n);
  char* q = p;
  asm volatile("" : "+r"(q) : : "memory");  // q is opaque to the optimizer: reads below stay reads
  delete[] p;
  asm volatile("" : : : "memory");
  const volatile char* v = q;
  for (size_t i = 0; i < n; ++i) {
    if (v[32 + i] != marker[i]) return false;
  }
  return true;
}

// The same through OpenSSL's allocator (OPENSSL_malloc / OPENSSL_free).
__attribute__((no_sanitize("address"))) bool marker_survives_openssl_free(const char* marker) {
  char* p = static_cast<char*>(OPENSSL_malloc(256));
  if (p == nullptr) return false;
  const size_t n = std::strlen(marker);
  std::memset(p, 'x', 256);
  std::memcpy(p + 32, marker, n);
  char* q = p;
  asm volatile("" : "+r"(q) : : "memory");
  OPENSSL_free(p);
  asm volatile("" : : : "memory");
  const volatile char* v = q;
  for (size_t i = 0; i < n; ++i) {
    if (v[32 + i] != marker[i]) return false;
  }
  return true;
}


}  // namespace

TEST_CASE("wipe-on-free: released blocks are zeroed once enabled, not before", "[wipe]") {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = 0;
    if (sealsum::secure::wipe_on_free_enabled()) code |= 1;
    if (!marker_survives_delete("qzvkx-before-enable-marker")) code |= 2;  // the control
    if (!marker_survives_openssl_free("qzvkx-before-enable-ossl")) code |= 32;
    // OpenSSL's hooks were installed before main (.preinit_array), so both parts are on.
    if (!sealsum::secure::enable_wipe_on_free().is_ok()) code |= 4;
    if (!sealsum::secure::wipe_on_free_enabled()) code |= 8;
    // Sanitizer builds keep the sanitizer's operator delete (no wiping there, see wipe_on_free.h):
    // the marker must then survive, as it did before enabling.
    if (marker_survives_delete("qzvkx-after-enable-marker") == sealsum::secure::wipe_on_free_covers_operator_delete()) {
      code |= 16;
    }
    if (marker_survives_openssl_free("qzvkx-after-enable-ossl")) code |= 64;
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("SecretAllocator: strings and vectors live in locked memory excluded from dumps", "[wipe]") {
  sealsum::secure::SecretString s;
  s.reserve(16);
  s.append("a secret document, longer than the small-string buffer");
  sealsum::secure::SecretVector<int32_t> ids;
  for (int32_t i = 0; i < 5000; ++i) ids.push_back(i);  // grows through several blocks
  CHECK(sealsum::secure::view(s) == "a secret document, longer than the small-string buffer");
  CHECK(ids[4999] == 4999);
  for (const void* p : {static_cast<const void*>(s.data()), static_cast<const void*>(ids.data())}) {
    const std::string flags = sealsum::vm_flags_of(p);
    INFO(flags);
    CHECK(flags.find(" dd") != std::string::npos);
  }
  // A plain heap block is not excluded (the check can fail).
  std::string plain(100, 'p');
  CHECK(sealsum::vm_flags_of(plain.data()).find(" dd") == std::string::npos);
}
