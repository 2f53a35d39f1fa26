#include "agent/net/status_client.h"

#include <boost/asio.hpp>
#include <optional>

#include "agent/net/connection.h"
#include "agent/net/peer_pool.h"

namespace grapevine::agent::net {

Result<proto::StatusReply> FetchStatus(const std::string& addr, const proto::Secret* secret,
                                       std::chrono::milliseconds timeout) {
  asio::io_context io;
  GV_ASSIGN_OR_RETURN(tcp::endpoint ep, ResolveEndpoint(io, addr));
  std::optional<proto::StatusReply> reply;
  Status failure = Status::Unavailable("no reply from " + addr + " within " +
                                       std::to_string(timeout.count()) + " ms");
  // One deadline for connecting, the handshake and the reply: an address whose packets
  // vanish (a cut link, a partition) costs `timeout`, not the kernel's SYN retries.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  tcp::socket socket(io);
  std::optional<boost::system::error_code> connected;
  socket.async_connect(ep, [&](const boost::system::error_code& e) { connected = e; });
  while (!connected && io.run_one_until(deadline) > 0) {
  }
  if (!connected) {
    socket.close();
    io.restart();
    io.poll();
    return Status::Unavailable("cannot connect to " + addr + " within " +
                               std::to_string(timeout.count()) + " ms");
  }
  if (*connected) {
    return Status::Unavailable("cannot connect to " + addr + ": " + connected->message());
  }
  io.restart();

  ConnectionOptions opts;
  opts.secret = secret;
  opts.initiator = true;
  opts.handshake_timeout = timeout;
  Connection::Callbacks cb;
  cb.on_ready = [](const std::shared_ptr<Connection>& c) {
    proto::Envelope req;
    req.body = proto::StatusRequest{};
    c->Send(req);
  };
  cb.on_envelope = [&](const std::shared_ptr<Connection>& c, proto::Envelope&& env) {
    if (auto* r = std::get_if<proto::StatusReply>(&env.body)) {
      reply = std::move(*r);
      c->Close(Status::Ok());
    } else if (auto* u = std::get_if<proto::Unimplemented>(&env.body)) {
      failure = Status::Unimplemented("agent does not implement message kind " +
                                      std::to_string(u->kind));
      c->Close(Status::Ok());
    }
  };
  cb.on_closed = [&](const std::shared_ptr<Connection>&, const Status& why) {
    if (!why.ok()) failure = why;
  };
  proto::Hello hello;
  hello.client = true;
  auto conn = std::make_shared<Connection>(std::move(socket), opts, std::move(cb), hello,
                                           "client");
  conn->Start();
  io.run_until(deadline);
  if (!conn->closed()) conn->Close(Status::Ok());
  io.restart();
  io.poll();
  if (reply) return std::move(*reply);
  return failure;
}

}  // namespace grapevine::agent::net
