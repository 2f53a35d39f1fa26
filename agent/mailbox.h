// Mailbox: received models handed from the network thread to the training thread.
//
// Bounded by construction: it holds at most one model per origin (a newer model
// replaces an older one that was not merged yet; the replacement is counted as
// superseded). The trainer waits on it with a deadline and never blocks the network
// thread: Put() only takes a short lock.
//
// Thread-safety: all members are safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "proto/messages.h"

namespace grapevine::agent {

class Mailbox {
 public:
  using ModelPtr = std::shared_ptr<const proto::ModelPayload>;

  // Network thread: deposit a model (newest per origin wins).
  void Put(ModelPtr model) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++received_;
      auto& slot = models_[model->origin];
      if (slot) ++superseded_;
      slot = std::move(model);
    }
    cv_.notify_all();
  }

  // Trainer: wait until `ready(models)` holds, a Wake() or `deadline` passes.
  template <typename Pred>
  void WaitUntil(std::chrono::steady_clock::time_point deadline, Pred ready) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return woken_ || ready(models_); });
    woken_ = false;
  }

  // Trainer: take everything (the mailbox is empty afterwards).
  std::map<proto::NodeId, ModelPtr> TakeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(models_, {});
  }

  // Interrupts a waiting trainer (stop requested, membership changed).
  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }

  uint64_t received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  uint64_t superseded() const {
    std::lock_guard<std::mutex> lock(mu_);
    return superseded_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<proto::NodeId, ModelPtr> models_;
  bool woken_ = false;
  uint64_t received_ = 0;
  uint64_t superseded_ = 0;
};

}  // namespace grapevine::agent
