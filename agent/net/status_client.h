// FetchStatus: a one-shot CLI client that asks an agent for its view of the swarm
// (used by `grapevine topo live`). Connects as a client (Hello.client = true),
// authenticates when a secret is given or demanded, sends StatusRequest and waits
// for the StatusReply.
//
// Thread-safety: runs its own io_context on the calling thread; blocks until done.
#pragma once

#include <chrono>
#include <string>

#include "base/status.h"
#include "proto/auth.h"
#include "proto/messages.h"

namespace grapevine::agent::net {

// Errors: kAuthFailed ("authentication failed..."), kUnavailable (cannot connect,
// timed out), kInvalidInput (bad address or an unexpected reply).
Result<proto::StatusReply> FetchStatus(const std::string& addr, const proto::Secret* secret,
                                       std::chrono::milliseconds timeout);

}  // namespace grapevine::agent::net
