// Document sources: the directory and the HTTP blob container (against an in-process stand-in of
// Azure Blob Storage's Get Blob / List Blobs with a SAS query), and `sealsum serve` summarizing a
// sealed document fetched from the container.
#include <httplib.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "secure/sealed.h"
#include "common/encoding.h"
#include "server/document_sources.h"
#include "server/serve_documents.h"
#include "server/serve_testutil.h"
#include "server/httplib_testutil.h"

namespace {

using json = nlohmann::json;
using namespace sealsum;
using namespace sealsum::server;
using namespace sealsum::server::testutil;

constexpr char kSas[] = "sv=2021-08-06&sr=c&sp=rl&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D";

// Blob container "docs" on 127.0.0.1: blobs by name, listed two per page, every request must carry the SAS.
class BlobStandIn {
 public:
  explicit BlobStandIn(std::map<std::string, std::string> blobs) : blobs_(std::move(blobs)) {
    srv_.Get(R"(/docs)", [this](const httplib::Request& req, httplib::Response& res) { list(req, res); });
    srv_.Get(R"(/docs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      ++gets;
      if (!authorized(req, res)) return;
      auto it = blobs_.find(req.matches[1]);
      if (it == blobs_.end()) {
        res.status = 404;
        res.set_content("<Error><Code>BlobNotFound</Code></Error>", "application/xml");
        return;
      }
      res.set_content(it->second, "application/octet-stream");
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = sealsum::server::testutil::listen_in_background(srv_);
  }
  ~BlobStandIn() {
    srv_.stop();
    thread_.join();
  }
  std::string url(bool with_sas = true) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/docs" + (with_sas ? std::string("?") + kSas : "");
  }
  int gets = 0;

 private:
  bool authorized(const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("sig") == "c2VjcmV0LXNpZ25hdHVyZQ==" && req.get_param_value("sp") == "rl") return true;
    res.status = 403;
    res.set_content("<Error><Code>AuthenticationFailed</Code></Error>", "application/xml");
    return false;
  }
  void list(const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    if (req.get_param_value("restype") != "container" || req.get_param_value("comp") != "list") {
      res.status = 400;
      return;
    }
    const size_t start = req.has_param("marker") ? std::stoul(req.get_param_value("marker").substr(5)) : 0;
    std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"docs\"><Blobs>";
    size_t i = 0;
    for (const auto& [name, body] : blobs_) {
      if (i >= start && i < start + 2) xml += "<Blob><Name>" + name + "</Name><Properties/></Blob>";
      ++i;
    }
    xml += "</Blobs><NextMarker>" + (start + 2 < blobs_.size() ? "page-" + std::to_string(start + 2) : "") +
           "</NextMarker></EnumerationResults>";
    res.set_content(xml, "application/xml");
  }
  std::map<std::string, std::string> blobs_;
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
};

std::string sealed_doc(const secure::SealingKey& key, const std::string& text) {
  auto b = secure::seal_to_bytes(encoding::as_bytes(text), key, {});
  REQUIRE(b.ok());
  return {b->begin(), b->end()};
}

}  // namespace

TEST_CASE("blob list parsing keeps valid <id>.sealed names and the marker", "[documents]") {
  auto p = parse_blob_list("<Blobs><Blob><Name>a.sealed</Name></Blob><Blob><Name>../x.sealed</Name></Blob>"
                           "<Blob><Name>notes.txt</Name></Blob><Blob><Name>.hidden.sealed</Name></Blob>"
                           "<Blob><Name>b-2.sealed</Name></Blob></Blobs><NextMarker>m1</NextMarker>");
  CHECK(p.ids == std::vector<std::string>{"a", "b-2"});
  CHECK(p.next_marker == "m1");
  for (std::string_view bad : {"", "<Name>", "<Name>a.sealed", "<NextMarker>", "<<<>>>"}) {
    auto q = parse_blob_list(bad);
    CHECK(q.ids.empty());
    CHECK(q.next_marker.empty());
  }
}

TEST_CASE("directory source lists and fetches, bounded", "[documents]") {
  const auto dir = temp_dir() / "dir-source";
  std::filesystem::create_directories(dir / "sub.sealed");
  for (const char* f : {"a.sealed", "b.sealed", "c.txt", ".d.sealed"}) std::ofstream(dir / f) << "0123456789";
  auto src = directory_source(dir);
  auto ids = src->list();
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::string>{"a", "b"});
  auto a = src->fetch("a", 64);
  REQUIRE(a.ok());
  CHECK(a->size() == 10);
  CHECK(src->fetch("a", 9).status().code() == Code::kResourceExhausted);
  CHECK(src->fetch("zz", 64).status().code() == Code::kNotFound);
  CHECK(src->fetch("../a", 64).status().code() == Code::kInvalidArgument);
}

TEST_CASE("blob source: SAS-authorized list over pages and fetch; the SAS never shows", "[documents]") {
  BlobStandIn blobs({{"a.sealed", "AAAA"}, {"b.sealed", "BBBBBBBB"}, {"c.sealed", "C"}, {"readme.md", "x"}});
  auto src = blob_source(blobs.url(), {.allow_plain_http = true});
  REQUIRE(src.ok());
  auto ids = (*src)->list();
  INFO(ids.status().to_string());
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::string>{"a", "b", "c"});
  auto b = (*src)->fetch("b", 64);
  REQUIRE(b.ok());
  CHECK(*b == "BBBBBBBB");
  CHECK((*src)->fetch("b", 4).status().code() == Code::kResourceExhausted);
  CHECK((*src)->fetch("nope", 64).status().code() == Code::kNotFound);
  CHECK((*src)->describe().find("sig=") == std::string::npos);

  auto unauthorized = blob_source(blobs.url(false), {.allow_plain_http = true});
  REQUIRE(unauthorized.ok());
  auto denied = (*unauthorized)->fetch("a", 64);
  CHECK(denied.status().code() == Code::kUnavailable);
  CHECK(denied.status().message().find("HTTP 403") != std::string::npos);
  CHECK((*unauthorized)->list().status().code() == Code::kUnavailable);

  CHECK(blob_source(blobs.url()).status().code() == Code::kInvalidArgument);  // http without --dev
  CHECK(blob_source("https://account.blob.example/").status().code() == Code::kInvalidArgument);  // no container
  CHECK(blob_source("ftp://host/docs").status().code() == Code::kInvalidArgument);
  auto gone = blob_source("http://127.0.0.1:1/docs?" + std::string(kSas), {.allow_plain_http = true});
  REQUIRE(gone.ok());
  auto unreachable = (*gone)->fetch("a", 64);
  CHECK(unreachable.status().code() == Code::kUnavailable);
  CHECK(unreachable.status().message().find("sig=") == std::string::npos);
}

TEST_CASE("serve: a sealed document from the blob container summarizes", "[documents][serve]") {
  auto key = secure::SealingKey::generate("blob-docs-key");
  REQUIRE(key.ok());
  const std::string text = "The harbour authority approved a new ferry terminal for the island on Monday.";
  BlobStandIn blobs({{"ferry.sealed", sealed_doc(*key, text)}});
  auto src = blob_source(blobs.url(), {.allow_plain_http = true});
  REQUIRE(src.ok());
  DocumentStore docs(std::move(src).value(), [&](const std::string& kid) -> Result<DocumentKey> {
    if (kid != key->kid()) return not_found("unknown key id");
    SEALSUM_ASSIGN_OR_RETURN(auto k, secure::SealingKey::from_bytes(key->bytes(), kid));
    return DocumentKey{std::move(k), ""};
  });
  ServeOptions o;
  o.dev = true;
  o.allow_plaintext_input = false;
  TestServer srv(o, &docs);
  httplib::Client c("127.0.0.1", srv.port());
  c.set_read_timeout(60, 0);
  auto list = c.Get("/v1/documents");
  REQUIRE(list);
  CHECK(json::parse(list->body)["documents"] == json::array({"ferry"}));
  auto res = c.Post("/v1/summarize", R"({"document":"ferry","no_repeat_ngram_size":1,"max_length":20})", "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  decoding::GenerationParams p = tiny_engine().default_params();
  p.no_repeat_ngram_size = 1;
  p.max_length = 20;
  auto local = tiny_engine().summarize(text, p);
  REQUIRE(local.ok());
  CHECK(json::parse(res->body)["summary"] == local->text);
  auto missing = c.Post("/v1/summarize", R"({"document":"absent"})", "application/json");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  for (const auto& line : srv.logs()) CHECK(line.find("sig=") == std::string::npos);
}
