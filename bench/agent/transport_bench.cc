// transport_bench: grapevine's transport against a plain TCP pair on loopback.
//
// Question (issue 4): does pushing a 16M-parameter model between two agents achieve at
// least 50 % of the throughput of a plain TCP sender/receiver moving the same bytes?
// Issue 11 (sessions framed by proto's FrameDecoder/FrameEncoder) must keep >= 0.90 open
// and >= 0.45 with a secret.
//
//   BM_PlainTcp          two threads, blocking sockets, 64 MiB written per iteration,
//                        the iteration ends when the receiver has read all of it.
//   BM_GrapevineModel    two agent::net::Network instances in this process (each with
//                        its own network thread, listening on 127.0.0.1:0); one Send()s
//                        an encoded 16M-float ModelPayload (encoded once, as an agent
//                        does for all its neighbours), the other's on_envelope checks
//                        size and a few values and counts arrivals. Framing, the capnp
//                        decode into a proto::Envelope (zero-copy: the values view the
//                        connection's recycled receive buffer, which proto's FrameDecoder
//                        reads into) and, with /secret:1, the per-frame MAC stage on both
//                        sides are inside the timed region.
// After the runs, main() prints MB/s of each and the ratios to the plain pair.
//
// Results: see bench/agent/README.md and docs/protocol.md §5 (medians, what changed).
//
// Run (Release build):
//   cmake --build build/release --target transport_bench
//   build/release/bench/agent/transport_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
// The summary table uses the medians when repetitions are given.
#include <malloc.h>
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/net/network.h"
#include "proto/auth.h"
#include "proto/codec.h"
#include "proto/messages.h"

namespace grapevine {
namespace {

constexpr size_t kParams = size_t{16} << 20;            // 16M float32 parameters
constexpr size_t kModelBytes = kParams * sizeof(float);  // 64 MiB

// ---- plain TCP ------------------------------------------------------------------

int ListenLoopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      listen(fd, 1) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool WriteAll(int fd, const uint8_t* data, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void BM_PlainTcp(benchmark::State& state) {
  int port = 0;
  int listener = ListenLoopback(&port);
  if (listener < 0) {
    state.SkipWithError("cannot listen on 127.0.0.1");
    return;
  }
  int sender = ConnectLoopback(port);
  int receiver = accept(listener, nullptr, nullptr);
  close(listener);
  if (sender < 0 || receiver < 0) {
    state.SkipWithError("cannot connect on 127.0.0.1");
    return;
  }
  std::vector<uint8_t> payload(kModelBytes, 0x5a);

  // The receiver reads 64 MiB per iteration into its own buffer (the same work a
  // receiver that keeps the model has to do) and reports each completed block.
  std::mutex mu;
  std::condition_variable cv;
  int64_t blocks = 0;
  std::thread reader([&] {
    std::vector<uint8_t> in(kModelBytes);
    while (true) {
      size_t got = 0;
      while (got < kModelBytes) {
        ssize_t r = recv(receiver, in.data() + got, kModelBytes - got, 0);
        if (r <= 0) return;
        got += static_cast<size_t>(r);
      }
      std::lock_guard lock(mu);
      ++blocks;
      cv.notify_all();
    }
  });

  int64_t sent = 0;
  for (auto _ : state) {
    WriteAll(sender, payload.data(), payload.size());
    ++sent;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return blocks >= sent; });
  }
  shutdown(sender, SHUT_RDWR);
  close(sender);
  reader.join();
  close(receiver);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kModelBytes));
}

// ---- grapevine transport --------------------------------------------------------

proto::Envelope ModelEnvelope() {
  proto::ModelPayload m;
  m.origin = 1;
  m.purpose = proto::ModelPurpose::kGossip;
  m.version = 1;
  m.round = 1;
  m.values.resize(kParams);
  for (size_t i = 0; i < kParams; ++i) m.values[i] = static_cast<float>(i % 1000) * 1e-3f;
  proto::Envelope env;
  env.sender = 1;
  env.incarnation = 1;
  env.body = std::move(m);
  return env;
}

void BM_GrapevineModel(benchmark::State& state) {
  const bool with_secret = state.range(0) != 0;
  proto::Secret secret;
  secret.bytes.assign(32, 0);
  for (size_t i = 0; i < secret.bytes.size(); ++i) {
    secret.bytes[i] = static_cast<uint8_t>(i * 7 + 1);
  }

  agent::net::NetworkOptions options;
  options.handle_signals = false;
  options.secret = with_secret ? &secret : nullptr;

  std::mutex mu;
  std::condition_variable cv;
  int64_t arrived = 0;
  bool bad = false;
  agent::net::Network::Handlers rx_handlers;
  rx_handlers.on_envelope = [&](const agent::net::LinkPtr&, proto::Envelope&& env) {
    auto* m = std::get_if<proto::ModelPayload>(&env.body);
    std::lock_guard lock(mu);
    if (m == nullptr) return;
    if (m->values.size() != kParams || m->values[0] != 0.0f ||
        m->values[kParams / 2 + 1] != static_cast<float>((kParams / 2 + 1) % 1000) * 1e-3f ||
        m->values[kParams - 1] != static_cast<float>((kParams - 1) % 1000) * 1e-3f) {
      bad = true;
    }
    ++arrived;
    cv.notify_all();
  };
  agent::net::Network receiver(options, std::move(rx_handlers));
  agent::net::Network sender(options, agent::net::Network::Handlers{});
  if (!receiver.Listen("127.0.0.1:0").ok() || !sender.Listen("127.0.0.1:0").ok()) {
    state.SkipWithError("cannot listen on 127.0.0.1");
    return;
  }
  const std::string to_addr = receiver.listen_addr();
  receiver.Start();
  sender.Start();
  receiver.Post([&] { receiver.SetIdentity(2, 1); });
  sender.Post([&] { sender.SetIdentity(1, 1); });

  // Encoded once (zero-copy: the float array is written straight from the vector).
  auto msg = std::make_shared<const proto::EncodedMessage>(proto::Encode(ModelEnvelope()));
  const size_t wire_bytes = msg->size();

  int64_t sent = 0;
  auto push_and_wait = [&]() -> bool {
    ++sent;
    sender.Post([&sender, &to_addr, msg] { sender.Send(2, to_addr, msg, false); });
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return arrived >= sent; });
  };
  // Warm-up: connection set-up and handshake are not part of the figure.
  if (!push_and_wait()) {
    state.SkipWithError("the first model never arrived");
  } else {
    for (auto _ : state) {
      if (!push_and_wait()) {
        state.SkipWithError("a model did not arrive within 30 s");
        break;
      }
    }
  }
  sender.Stop();
  receiver.Stop();
  if (bad) state.SkipWithError("a model arrived with the wrong size or values");
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kModelBytes));
  state.counters["wire_MB"] = static_cast<double>(wire_bytes) / 1e6;
}

BENCHMARK(BM_PlainTcp)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_GrapevineModel)
    ->ArgName("secret")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1.0);

// Collects bytes_per_second per run (the median aggregate when repetitions are on)
// and prints the comparison after Google Benchmark's own table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.error_occurred) continue;
      const bool aggregate = r.run_type == Run::RT_Aggregate;
      if (aggregate && r.aggregate_name != "median") continue;
      auto it = r.counters.find("bytes_per_second");
      if (it == r.counters.end()) continue;
      const std::string name = r.run_name.str();
      // A median always wins over single runs; without repetitions the single run counts.
      if (aggregate || !medians_.count(name)) {
        (aggregate ? medians_ : singles_)[name] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void PrintSummary() const {
    const auto& table = medians_.empty() ? singles_ : medians_;
    auto find = [&](const std::string& prefix) -> double {
      for (const auto& [name, v] : table) {
        if (name.rfind(prefix, 0) == 0) return v;
      }
      return 0;
    };
    const double tcp = find("BM_PlainTcp");
    const double gv = find("BM_GrapevineModel/secret:0");
    const double gv_auth = find("BM_GrapevineModel/secret:1");
    std::printf("\n16M-parameter model (%.1f MB) over loopback, %s:\n", kModelBytes / 1e6,
                medians_.empty() ? "single runs" : "medians of the repetitions");
    std::printf("  %-34s %10.1f MB/s\n", "plain TCP pair", tcp / 1e6);
    std::printf("  %-34s %10.1f MB/s   ratio %.2f\n", "grapevine Network, open", gv / 1e6,
                tcp > 0 ? gv / tcp : 0.0);
    std::printf("  %-34s %10.1f MB/s   ratio %.2f\n", "grapevine Network, secret (MAC)",
                gv_auth / 1e6, tcp > 0 ? gv_auth / tcp : 0.0);
    // Issue 4 asked for 0.50 (open); issue 11 (one framing path) must keep what 4 reached.
    auto verdict = [&](double v, double target) {
      return tcp > 0 && v / tcp >= target ? "met" : "NOT met";
    };
    std::printf("  targets: open >= 0.90 -> %s; secret >= 0.45 -> %s\n", verdict(gv, 0.90),
                verdict(gv_auth, 0.45));
  }

 private:
  std::map<std::string, double> medians_;
  std::map<std::string, double> singles_;
};

}  // namespace
}  // namespace grapevine

int main(int argc, char** argv) {
  // The same allocator settings as the `grapevine` binary (tools/main.cc).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  grapevine::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary();
  benchmark::Shutdown();
  return 0;
}
