// SEV-SNP evidence from the guest kernel: SNP_GET_REPORT on /dev/sev-guest (Linux >= 5.19 uapi
// <linux/sev-guest.h>), and the legacy /dev/sev SEV_SNP_GUEST_MSG_REPORT ioctl that older Azure
// Container Instances kernels exposed (microsoft/confidential-sidecar-containers
// tools/get-snp-report).
//
// The structures below restate the kernel ABI byte for byte (static_asserts pin the layout), so this
// code builds without kernel headers and the marshalling is unit-testable without hardware:
//   struct snp_report_req  { u8 user_data[64]; u32 vmpl; u8 rsvd[28]; }                 96 bytes
//   struct snp_report_resp { u8 data[4000]; }   data = MSG_REPORT_RSP:
//                          { u32 status; u32 report_size; u8 rsvd[24]; u8 report[report_size]; }
//   struct snp_guest_request_ioctl { u8 msg_version; u64 req_data; u64 resp_data; u64 exitinfo2; }
//                          32 bytes; SNP_GET_REPORT = _IOWR('S', 0x0, struct snp_guest_request_ioctl)
//   legacy: struct sev_snp_guest_request { u8 req_msg_type, rsp_msg_type, msg_version; u16 request_len;
//                          u64 request_uaddr; u16 response_len; u64 response_uaddr; u32 error; } 40 bytes;
//                          SEV_SNP_GUEST_MSG_REPORT = _IOWR('S', 0x1, struct sev_snp_guest_request),
//                          with SNP_MSG_REPORT_REQ = 5 / SNP_MSG_REPORT_RSP = 6 and a 1280-byte response.
//
// Failure: a missing device is kUnavailable naming the device ("no SEV-SNP guest device /dev/sev-guest
// ...: not running in an SNP guest?"); a firmware error is kUnavailable with the fw/vmm error codes.
// Thread safety: each call opens and closes the device; concurrent calls are serialized by the kernel.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace sealsum::secure::attest {

struct SnpReportReq {
  uint8_t user_data[64];
  uint32_t vmpl;
  uint8_t rsvd[28];
};
static_assert(sizeof(SnpReportReq) == 96);

struct SnpGuestRequestIoctl {
  uint8_t msg_version;
  uint64_t req_data;
  uint64_t resp_data;
  uint64_t exitinfo2;  // union { u64 exitinfo2; struct { u32 fw_error; u32 vmm_error; } }
};
static_assert(sizeof(SnpGuestRequestIoctl) == 32);

struct LegacySevSnpGuestRequest {
  uint8_t req_msg_type;
  uint8_t rsp_msg_type;
  uint8_t msg_version;
  uint16_t request_len;
  uint64_t request_uaddr;
  uint16_t response_len;
  uint64_t response_uaddr;
  uint32_t error;
};
static_assert(sizeof(LegacySevSnpGuestRequest) == 40);

inline constexpr size_t kSnpReportRespBytes = 4000;        // struct snp_report_resp
inline constexpr size_t kLegacyReportRespBytes = 1280;     // SEV_SNP_REPORT_RSP_BUF_SZ
inline constexpr size_t kMsgReportRspHeaderBytes = 32;     // status, report_size, reserved[24]
inline constexpr uint8_t kSnpMsgReportReq = 5;
inline constexpr uint8_t kSnpMsgReportRsp = 6;

// ioctl request numbers, computed as _IOWR('S', nr, struct) does.
unsigned long snp_get_report_ioctl();          // /dev/sev-guest SNP_GET_REPORT
unsigned long legacy_sev_msg_report_ioctl();   // /dev/sev SEV_SNP_GUEST_MSG_REPORT

SnpReportReq make_report_request(const std::array<uint8_t, 64>& report_data, uint32_t vmpl);
// Extracts the report from a MSG_REPORT_RSP buffer: status must be 0, report_size must be
// kSnpReportSize and fit the buffer. kUnavailable for a firmware status, kDataLoss for bad sizes.
Result<std::vector<uint8_t>> parse_report_response(std::span<const uint8_t> resp);

// Requests a report from /dev/sev-guest (SNP_GET_REPORT) for `report_data` at `vmpl`.
Result<std::vector<uint8_t>> get_report_sev_guest(const std::array<uint8_t, 64>& report_data,
                                                  uint32_t vmpl = 0,
                                                  const std::string& device = "/dev/sev-guest");
// Requests a report from the legacy ACI /dev/sev interface.
Result<std::vector<uint8_t>> get_report_legacy_sev(const std::array<uint8_t, 64>& report_data,
                                                   const std::string& device = "/dev/sev");
// /dev/sev-guest if it exists, else /dev/sev; kUnavailable naming both when neither exists.
Result<std::vector<uint8_t>> get_report_hardware(const std::array<uint8_t, 64>& report_data,
                                                 uint32_t vmpl = 0);

}  // namespace sealsum::secure::attest
