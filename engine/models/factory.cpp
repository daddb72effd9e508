// load_model: dispatch on the model file's architecture.
#include "engine/models/seq2seq.h"

namespace sealsum::models {

Result<std::unique_ptr<Seq2SeqModel>> load_model(std::shared_ptr<const weights::ModelFile> file) {
  if (file == nullptr) return invalid_argument("load_model: no model file");
  const std::string& arch = file->architecture();
  if (arch == "t5") return load_t5(std::move(file));
  if (arch == "bart") return load_bart(std::move(file));
  return unimplemented("model architecture '" + arch + "' is not supported (supported: t5, bart)");
}

}  // namespace sealsum::models
