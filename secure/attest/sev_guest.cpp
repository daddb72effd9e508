// SEV-SNP report requests through the guest kernel (see sev_guest.h).
#include "secure/attest/sev_guest.h"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "secure/attest/report.h"

namespace sealsum::secure::attest {
namespace {

// Kernel ABI offsets (the layout must match the kernel's, byte for byte).
static_assert(offsetof(SnpReportReq, vmpl) == 64);
static_assert(offsetof(SnpReportReq, rsvd) == 68);
static_assert(offsetof(SnpGuestRequestIoctl, req_data) == 8);
static_assert(offsetof(SnpGuestRequestIoctl, resp_data) == 16);
static_assert(offsetof(SnpGuestRequestIoctl, exitinfo2) == 24);
static_assert(offsetof(LegacySevSnpGuestRequest, request_len) == 4);
static_assert(offsetof(LegacySevSnpGuestRequest, request_uaddr) == 8);
static_assert(offsetof(LegacySevSnpGuestRequest, response_len) == 16);
static_assert(offsetof(LegacySevSnpGuestRequest, response_uaddr) == 24);
static_assert(offsetof(LegacySevSnpGuestRequest, error) == 32);

uint32_t le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

bool device_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<int> open_device(const std::string& device) {
  int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENXIO || err == ENODEV) {
      return unavailable("no SEV-SNP guest device " + device + " (" + std::strerror(err) +
                         "): not running in an SEV-SNP guest, or the sev-guest driver is not loaded");
    }
    return unavailable("cannot open SEV-SNP guest device " + device + ": " + std::strerror(err) +
                       (err == EACCES ? " (run with access to the device)" : ""));
  }
  return fd;
}

}  // namespace

unsigned long snp_get_report_ioctl() { return _IOWR('S', 0x0, SnpGuestRequestIoctl); }
unsigned long legacy_sev_msg_report_ioctl() { return _IOWR('S', 0x1, LegacySevSnpGuestRequest); }

SnpReportReq make_report_request(const std::array<uint8_t, 64>& report_data, uint32_t vmpl) {
  SnpReportReq req;
  std::memset(&req, 0, sizeof req);
  std::memcpy(req.user_data, report_data.data(), 64);
  req.vmpl = vmpl;
  return req;
}

Result<std::vector<uint8_t>> parse_report_response(std::span<const uint8_t> resp) {
  if (resp.size() < kMsgReportRspHeaderBytes) {
    return data_loss("SNP report response is " + std::to_string(resp.size()) + " bytes, shorter than its header");
  }
  uint32_t status = le32(resp.data());
  uint32_t size = le32(resp.data() + 4);
  if (status != 0) {
    return unavailable("SEV-SNP firmware refused the report request (MSG_REPORT_RSP status " + std::to_string(status) +
                       (status == 0x16 ? ": invalid parameters, e.g. VMPL" : "") + ")");
  }
  if (size != kSnpReportSize) {
    return data_loss("SNP report response announces a " + std::to_string(size) + "-byte report, expected " +
                     std::to_string(kSnpReportSize));
  }
  if (resp.size() - kMsgReportRspHeaderBytes < size) {
    return data_loss("SNP report response buffer is too small for its report");
  }
  return std::vector<uint8_t>(resp.begin() + kMsgReportRspHeaderBytes,
                              resp.begin() + long(kMsgReportRspHeaderBytes + size));
}

Result<std::vector<uint8_t>> get_report_sev_guest(const std::array<uint8_t, 64>& report_data, uint32_t vmpl,
                                                  const std::string& device) {
  if (vmpl > 3) return invalid_argument("VMPL must be 0..3");
  SEALSUM_ASSIGN_OR_RETURN(int raw_fd, open_device(device));
  Fd fd(raw_fd);
  SnpReportReq req = make_report_request(report_data, vmpl);
  std::vector<uint8_t> resp(kSnpReportRespBytes, 0);
  SnpGuestRequestIoctl io;
  std::memset(&io, 0, sizeof io);
  io.msg_version = 1;
  io.req_data = reinterpret_cast<uintptr_t>(&req);
  io.resp_data = reinterpret_cast<uintptr_t>(resp.data());
  if (::ioctl(fd.get(), snp_get_report_ioctl(), &io) < 0) {
    int err = errno;
    return unavailable("SNP_GET_REPORT on " + device + " failed: " + std::strerror(err) + " (fw_error " +
                       std::to_string(uint32_t(io.exitinfo2)) + ", vmm_error " + std::to_string(uint32_t(io.exitinfo2 >> 32)) + ")");
  }
  return parse_report_response(resp);
}

Result<std::vector<uint8_t>> get_report_legacy_sev(const std::array<uint8_t, 64>& report_data, const std::string& device) {
  SEALSUM_ASSIGN_OR_RETURN(int raw_fd, open_device(device));
  Fd fd(raw_fd);
  SnpReportReq req = make_report_request(report_data, 0);
  std::vector<uint8_t> resp(kLegacyReportRespBytes, 0);
  LegacySevSnpGuestRequest io;
  std::memset(&io, 0, sizeof io);
  io.req_msg_type = kSnpMsgReportReq;
  io.rsp_msg_type = kSnpMsgReportRsp;
  io.msg_version = 1;
  io.request_len = sizeof req;
  io.request_uaddr = reinterpret_cast<uintptr_t>(&req);
  io.response_len = uint16_t(resp.size());
  io.response_uaddr = reinterpret_cast<uintptr_t>(resp.data());
  if (::ioctl(fd.get(), legacy_sev_msg_report_ioctl(), &io) < 0) {
    int err = errno;
    return unavailable("SEV_SNP_GUEST_MSG_REPORT on " + device + " failed: " + std::strerror(err) + " (firmware error " +
                       std::to_string(io.error) + ")");
  }
  return parse_report_response(resp);
}

Result<std::vector<uint8_t>> get_report_hardware(const std::array<uint8_t, 64>& report_data, uint32_t vmpl) {
  if (device_exists("/dev/sev-guest")) return get_report_sev_guest(report_data, vmpl);
  if (device_exists("/dev/sev")) {
    if (vmpl != 0) return invalid_argument("the legacy /dev/sev interface only reports at VMPL 0");
    return get_report_legacy_sev(report_data);
  }
  return unavailable("no SEV-SNP guest device: neither /dev/sev-guest nor /dev/sev exists (not an SEV-SNP guest?); "
                     "for local runs use the simulated TEE");
}

}  // namespace sealsum::secure::attest
