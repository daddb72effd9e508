// What `main` does before anything else, per subcommand (argv[1]):
//   - serve, batch (the commands that hold sealed documents and keys in a TEE): non-dumpable, no
//     core files (secure/process_hardening.h), from main's first line, before a thread, a key or a
//     document exists;
//   - serve, batch, summarize, generate, bench (every command that runs the engine on input text):
//     wipe-on-free for the whole process (secure/wipe_on_free.h), so the temporaries the tokenizer,
//     the JSON parser and the HTTP library make are zeroed when released. bench pays it too, so its
//     figures are the service's.
// Returns 0, or 1 after printing what failed (the caller exits with it: a TEE command never runs
// unprotected). Thread safety: call once, first thing in main.
#pragma once

namespace sealsum::cli {

int protect_process(int argc, char** argv);

}  // namespace sealsum::cli
