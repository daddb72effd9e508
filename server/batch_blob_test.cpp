// `sealsum batch` over a blob container: an in-process stand-in of Azure Blob Storage on
// 127.0.0.1 speaking the subset batch uses (List Blobs XML with paging, Get Blob, Put Blob with
// x-ms-blob-type: BlockBlob and If-None-Match: *), every request authorized by a SAS query.
#include <httplib.h>

#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <chrono>
#include <thread>

#include "server/batch.h"
#include "server/batch_testutil.h"
#include "server/httplib_testutil.h"

using namespace sealsum;
using namespace sealsum::server;
using namespace sealsum::server::testutil;

namespace {

constexpr char kSas[] = "sv=2021-08-06&sr=c&sp=rcwl&sig=YmF0Y2gtc2lnbmF0dXJl";

class WritableBlobStandIn {
 public:
  explicit WritableBlobStandIn(std::map<std::string, std::string> blobs) : blobs_(std::move(blobs)) {
    srv_.Get("/store", [this](const httplib::Request& req, httplib::Response& res) { list(req, res); });
    srv_.Get(R"(/store/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!authorized(req, res)) return;
      auto it = blobs_.find(req.matches[1]);
      if (it == blobs_.end()) return error(res, 404, "BlobNotFound");
      res.set_content(it->second, "application/octet-stream");
    });
    srv_.Put(R"(/store/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!authorized(req, res)) return;
      if (req.get_header_value("x-ms-blob-type") != "BlockBlob") return error(res, 400, "MissingRequiredHeader");
      const std::string name = req.matches[1];
      if (req.get_header_value("If-None-Match") == "*" && blobs_.count(name) != 0) {
        return error(res, 409, "BlobAlreadyExists");
      }
      blobs_[name] = req.body;
      ++puts;
      res.status = 201;
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = sealsum::server::testutil::listen_in_background(srv_);
  }
  ~WritableBlobStandIn() {
    srv_.stop();
    thread_.join();
  }
  std::string url(const std::string& sas = kSas) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/store" + (sas.empty() ? "" : "?" + sas);
  }
  std::map<std::string, std::string> blobs() {
    std::lock_guard<std::mutex> lock(mu_);
    return blobs_;
  }
  int puts = 0;

 private:
  static void error(httplib::Response& res, int status, const std::string& code) {
    res.status = status;
    res.set_content("<Error><Code>" + code + "</Code></Error>", "application/xml");
  }
  bool authorized(const httplib::Request& req, httplib::Response& res) {
    const std::string sp = req.get_param_value("sp");
    const bool write = req.method == "PUT";
    if (req.get_param_value("sig") == "YmF0Y2gtc2lnbmF0dXJl" && sp.find(write ? 'w' : 'r') != std::string::npos) return true;
    error(res, 403, "AuthorizationPermissionMismatch");
    return false;
  }
  void list(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!authorized(req, res)) return;
    if (req.get_param_value("restype") != "container" || req.get_param_value("comp") != "list") {
      return error(res, 400, "InvalidQueryParameterValue");
    }
    const size_t start = req.has_param("marker") ? std::stoul(req.get_param_value("marker").substr(5)) : 0;
    std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs>";
    size_t i = 0;
    for (const auto& [name, body] : blobs_) {
      if (i >= start && i < start + 3) xml += "<Blob><Name>" + name + "</Name><Properties/></Blob>";
      ++i;
    }
    xml += "</Blobs><NextMarker>" + (start + 3 < blobs_.size() ? "page-" + std::to_string(start + 3) : "") +
           "</NextMarker></EnumerationResults>";
    res.set_content(xml, "application/xml");
  }

  std::mutex mu_;
  std::map<std::string, std::string> blobs_;
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("batch: a blob container is summarized with Put Blob; a rerun puts nothing", "[batch][blob]") {
  BatchFixture f("blob");
  std::map<std::string, std::string> blobs;
  for (const auto& [id, text] : f.texts) blobs[id + ".sealed"] = f.sealed(id, text);
  blobs["broken.sealed"] = f.corrupt();
  blobs["notes.txt"] = "not a document";
  WritableBlobStandIn container(blobs);
  std::vector<std::string> failures;
  BatchCallbacks cb;
  cb.on_failure = [&](const std::string& id, const Status& st) { failures.push_back(id + ": " + st.to_string()); };

  auto src = blob_source(container.url(), {.allow_plain_http = true});
  REQUIRE(src.ok());
  auto store = f.store(std::move(src).value());
  auto r = run_batch(*store, tiny_engine(), f.options(), cb);
  REQUIRE(r.ok());
  CHECK(r->total == f.texts.size() + 1);
  CHECK(r->processed == f.texts.size());
  CHECK(r->failed == 1);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].rfind("broken: ", 0) == 0);
  CHECK(failures[0].find("sig=") == std::string::npos);
  CHECK(container.puts == static_cast<int>(f.texts.size()));
  const auto after = container.blobs();
  for (const auto& [id, text] : f.texts) {
    auto it = after.find(id + kSummarySuffix);
    REQUIRE(it != after.end());
    CHECK(check_summary_file(it->second, id).is_ok());
    CHECK(f.summary_of(it->second, id) == f.expected_summary(text));
  }
  CHECK(after.count(std::string("broken") + kSummarySuffix) == 0);

  auto src2 = blob_source(container.url(), {.allow_plain_http = true});
  REQUIRE(src2.ok());
  auto store2 = f.store(std::move(src2).value());
  auto r2 = run_batch(*store2, tiny_engine(), f.options());
  REQUIRE(r2.ok());
  CHECK(r2->skipped == f.texts.size());
  CHECK(r2->processed == 0);
  CHECK(container.puts == static_cast<int>(f.texts.size()));
  CHECK(container.blobs() == after);

  // Put Blob with If-None-Match: * does not overwrite; a read-only SAS is refused with advice.
  auto raw = blob_source(container.url(), {.allow_plain_http = true});
  REQUIRE(raw.ok());
  auto again = (*raw)->store_summary("memo", "{}", false);
  REQUIRE(again.ok());
  CHECK(!*again);
  auto read_only = blob_source(container.url("sv=2021-08-06&sr=c&sp=rl&sig=YmF0Y2gtc2lnbmF0dXJl"),
                               {.allow_plain_http = true});
  REQUIRE(read_only.ok());
  auto denied = (*read_only)->store_summary("new-doc", "{}", false);
  CHECK(denied.status().code() == Code::kUnavailable);
  CHECK(denied.status().message().find("HTTP 403") != std::string::npos);
  CHECK(denied.status().message().find("sig=") == std::string::npos);
  auto absent = (*read_only)->fetch_summary("new-doc", 1024);
  REQUIRE(absent.ok());
  CHECK(!absent->has_value());
}
