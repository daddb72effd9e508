// Wipe-on-free for the whole process: defense in depth behind the secret buffers. Once enabled,
// every block released through the global operator delete (every std::string, std::vector and
// node container, so the tokenizer's temporaries, nlohmann::json values and cpp-httplib's request
// and response buffers) and through OpenSSL's allocator (CRYPTO_set_mem_functions) is zeroed over
// its whole usable size (malloc_usable_size, explicit_bzero) before it goes back to malloc; an
// OpenSSL realloc that moves a block wipes the old one.
//
// What stays out of reach: memory still in use (a secret must live in SecretBuffer or
// SecretAllocator memory, which is also excluded from dumps and locked), stack frames, and blocks
// freed with plain free() or realloc() by C code other than OpenSSL.
//
// The operator new/delete replacements and OpenSSL's hooks are linked into every executable that
// uses this module (wipe_on_free.cpp; the hooks are installed from .preinit_array, before any
// shared library's constructor: cpp-httplib's initializes OpenSSL, after which OpenSSL refuses
// new allocator functions). Until enable_wipe_on_free() both behave as the standard ones (a
// relaxed atomic load per release). The sealsum binary enables it first thing in main for the
// commands that run the engine on documents (tools/cli/process_start.h).
// Failure: enable_wipe_on_free() returns kInternal when OpenSSL's hooks could not be installed at
// start (operator delete wipes anyway; the caller should refuse to run). operator new's failure
// is std::bad_alloc (after the new-handler), as the standard one. Sanitizer builds keep the
// sanitizer's own operator new/delete (no wiping there; OpenSSL's hooks still wipe).
// Thread safety: enable from one thread at start, before other threads exist.
#pragma once

#include "common/status.h"

namespace sealsum::secure {

// Turns wiping on for operator delete and for OpenSSL (see Failure above).
Status enable_wipe_on_free();
// Whether enable_wipe_on_free() has been called in this process.
bool wipe_on_free_enabled();
// Whether this build replaces operator delete (false in sanitizer builds, which keep their own;
// OpenSSL's hooks wipe in every build).
bool wipe_on_free_covers_operator_delete();

}  // namespace sealsum::secure
